// Tests' view of a refused sql task: the INVALID_SQL_TASK message a query gets.
import { AppError } from '../../errors/index.ts';
import { parseSqlTask } from './parse-sql-task.ts';

/** The whole message of the INVALID_SQL_TASK error the query gets; throws if it is accepted. */
export function refusal(sql: string): string {
  try {
    parseSqlTask(sql);
  } catch (error) {
    // Any other error is the test's failure, with its own stack.
    if (!(error instanceof AppError) || error.code !== 'INVALID_SQL_TASK') throw error;
    return error.message;
  }
  throw new Error(`accepted: ${sql}`);
}

/** Only the detail: "line L, column C: ...", without the catalogue's opening and closing words. */
export function refusalDetail(sql: string): string {
  return refusal(sql)
    .replace(/^.*?the tables: /, '')
    .replace(/ See docs\/sql.md.*$/, '');
}
