// Errors of sql tasks: every refusal names the construct and where it starts in the query.
import { AppError } from '../../errors/index.ts';
import type { Position } from './sql-task-model.ts';

/** The position of `offset` in `text`, with lines and columns counted from 1. */
export function positionAt(text: string, offset: number): Position {
  const clamped = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < clamped; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { offset: clamped, line, column: clamped - lineStart + 1 };
}

/** An analyst's mistake: 422 with "line L, column C: <what is wrong and how to fix it>". */
export function sqlError(at: Position | undefined, message: string): AppError {
  const where = at ? `line ${at.line}, column ${at.column}: ` : '';
  return new AppError('INVALID_SQL_TASK', { detail: `${where}${message}` });
}

/** Untrusted text shown back in a message: one line, at most `max` characters. */
export function shown(text: string, max = 60): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max)}...` : line;
}
