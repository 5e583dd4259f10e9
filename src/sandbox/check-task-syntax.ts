// Compile-time checks of task code on the host: parse only (nothing runs), so errors carry line and column.
import vm from 'node:vm';
import { TaskCompileError } from './task-compile-error.ts';
import { taskFunctionSource } from './task-shape.ts';

/**
 * SES refuses these anywhere in evaluated source, even inside strings and comments, because a
 * regular expression cannot tell those apart (SES_HTML_COMMENT_REJECTED, SES_IMPORT_REJECTED).
 * The patterns are SES 2.x's own; checking them here turns a per-user failure into a compile error.
 */
const SES_REJECTIONS: Array<{ pattern: RegExp; explain: string; at(m: RegExpExecArray): number }> =
  [
    {
      pattern: /<!--|-->/,
      at: (m) => m.index,
      explain:
        "the sandbox rejects '<!--' and '-->' anywhere in task code, even in strings and comments (write 'x-- > y' with a space)",
    },
    {
      pattern: /(^|[^.]|\.\.\.)\bimport(\s*(?:\(|\/[/*]))/,
      // The first group is the character before the keyword; point at the keyword itself.
      at: (m) => m.index + (m[1] ?? '').length,
      explain:
        "dynamic import is not available, and the sandbox rejects 'import(' anywhere in task code, even in strings and comments",
    },
  ];

/** Throws TaskCompileError when the code cannot become the body of the task function. */
export function checkTaskSyntax(code: string): void {
  rejectSesPatterns(code);
  // As a strict script first: this rejects a top-level `return` (which would skip handing back
  // the accumulator) and code that only parses when glued into a larger function.
  parseOrThrow(`'use strict';\n${code}`, code);
  // Then as the real function body: this catches a `let tables` that redeclares a parameter.
  parseOrThrow(taskFunctionSource(code), code);
}

function rejectSesPatterns(code: string): void {
  for (const { pattern, explain, at } of SES_REJECTIONS) {
    const match = pattern.exec(code);
    if (match === null) continue;
    const { line, column } = positionOf(code, at(match));
    throw new TaskCompileError(
      `SyntaxError: ${explain} (line ${line}, column ${column})`,
      line,
      column,
    );
  }
}

function parseOrThrow(source: string, code: string): void {
  try {
    // lineOffset -1: the wrapper's first line is line 0, so the task's own lines keep their numbers.
    new vm.Script(source, { filename: 'task.js', lineOffset: -1 });
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw compileErrorFrom(error, code);
  }
}

/** V8 states the line in the stack's first line and the column as a caret under the source line. */
function compileErrorFrom(error: SyntaxError, code: string): TaskCompileError {
  const stackLines = (error.stack ?? '').split('\n');
  const lineMatch = /^task\.js:(\d+)$/.exec(stackLines[0] ?? '');
  const codeLines = code.split('\n');
  let line = lineMatch ? Number(lineMatch[1]) : undefined;
  let column: number | undefined;
  if (line !== undefined && line > codeLines.length) {
    // Reported inside the wrapper's closing lines: something in the code was left open.
    line = codeLines.length;
    column = (codeLines[line - 1] ?? '').length + 1;
  } else if (line !== undefined && line >= 1) {
    const caretLine = stackLines[2] ?? '';
    const caret = caretLine.indexOf('^');
    column = caret >= 0 ? caret + 1 : caretLine.length + 1;
  } else {
    line = undefined;
  }
  const where = line === undefined ? '' : ` (line ${line}, column ${column})`;
  return new TaskCompileError(`SyntaxError: ${error.message}${where}`, line, column);
}

function positionOf(code: string, index: number): { line: number; column: number } {
  const before = code.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}
