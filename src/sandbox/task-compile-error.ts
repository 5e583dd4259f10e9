// The error compileTask throws for task code the sandbox cannot compile, with where V8 found the problem.

export class TaskCompileError extends Error {
  override readonly name = 'TaskCompileError';
  /** 1-based line in the task code, when known. */
  readonly line?: number;
  /** 1-based column in that line, when known. */
  readonly column?: number;

  constructor(message: string, line?: number, column?: number) {
    super(message);
    if (line !== undefined) this.line = line;
    if (column !== undefined) this.column = column;
  }
}
