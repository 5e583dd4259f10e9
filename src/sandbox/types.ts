// The sandbox's public types: limits, one user's input and outcome, the host hooks, a compiled program.

export interface SandboxLimits {
  /** Wall-clock limit for one user's run, in milliseconds (promise jobs it leaves behind included). */
  timeoutMs: number;
  /** Heap limit of the sandbox's V8 isolate, in MiB (isolated-vm's minimum is 8). */
  memoryLimitMb: number;
  /** Distinct (label, value) pairs one user may report; one more is that user's exception. */
  maxPropertiesPerUser: number;
  /** The sandbox process's niceness (`sandbox.niceness`; 19, the lowest, when not given). */
  niceness?: number;
}

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  timeoutMs: 1000,
  memoryLimitMb: 128,
  maxPropertiesPerUser: 10_000,
  niceness: 19,
});

/** A label or value longer than this (in UTF-16 code units) is that user's exception. */
export const MAX_PROPERTY_TEXT_LENGTH = 1000;

/** Exception messages are counted across users, so they are cut to this length. */
export const MAX_ERROR_MESSAGE_LENGTH = 300;

export type CellValue = string | number | boolean | null;
export type Row = Record<string, CellValue>;

export interface UserInput {
  /** That user's prefetched rows, per table name. */
  tables: Record<string, Row[]>;
  /** Streaming tasks: the user's state from the previous run (a JSON value). */
  accumulator?: unknown;
}

/**
 * One user's run. On failure `accumulator` is the input accumulator, unchanged, so a streaming
 * user's state survives a failed run; it is absent when the input had none.
 */
export type UserOutcome =
  | { ok: true; properties: Array<[label: string, value: string]>; accumulator?: unknown }
  | { ok: false; error: string; accumulator?: unknown };

export interface TaskHost {
  /** Answers the task's `lookup(table, key)`; absent means every lookup is undefined. */
  lookup?(table: string, key: string): string | undefined;
}

export interface TaskProgram {
  /** Runs the task for one user. Never rejects for anything the task does. */
  runUser(input: UserInput): Promise<UserOutcome>;
  /**
   * Runs the task for several users in one exchange with the sandbox process, with the same
   * per-user limits and outcomes as calling runUser for each; much faster for small tasks. The
   * host never blocks while the sandbox works, so several programs (one process each) can work
   * at once. Rejects only if the program was disposed or its sandbox process cannot start.
   */
  runUsers(inputs: UserInput[]): Promise<UserOutcome[]>;
  /**
   * Stops the sandbox process at once (SIGKILL), even in the middle of a run, whose promise then
   * rejects; the program cannot run afterwards. Resolves once the process has exited.
   */
  dispose(): Promise<void>;
  /**
   * Ends the program after its last batch has been answered: an idle, healthy process goes back
   * to the program's process cache (compileTask's `reuse`) for the next task of the same scope;
   * without a cache, or while a batch is in flight, this is dispose.
   */
  release(): Promise<void>;
}
