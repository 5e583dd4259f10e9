// The streaming engine's tables in cloak.db, and the columns later versions added to them.
import type { Db } from '../../store/index.ts';

/*
 * Exactly once per arrival. A pass runs the users whose rows arrived in [next_seq, pass_target).
 * `pass_target` is written before the first user runs, and each user's new state is saved with
 * `through_seq` = that target in one transaction. A pass cut off by a crash (kill -9) is resumed
 * with the same target, skipping the users whose `through_seq` already reaches it: so a user's
 * accumulator advances once per pass that saw new rows of theirs, however often the process dies.
 * Only when every user ran does next_seq move to the target and pass_target go back to NULL.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS streaming_tasks (
    task_key TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    next_seq INTEGER NOT NULL,
    last_report TEXT,
    pass_target INTEGER
  );
  CREATE TABLE IF NOT EXISTS streaming_users (
    task_key TEXT NOT NULL,
    user_id TEXT NOT NULL,
    properties TEXT NOT NULL,
    error TEXT,
    accumulator TEXT,
    updated_at INTEGER NOT NULL,
    through_seq INTEGER,
    PRIMARY KEY (task_key, user_id)
  ) WITHOUT ROWID;
`;

/** Columns that data directories made before exactly-once passes lack. */
const ADDED_COLUMNS: ReadonlyArray<[table: string, column: string, type: string]> = [
  ['streaming_tasks', 'pass_target', 'INTEGER'],
  ['streaming_users', 'through_seq', 'INTEGER'],
];

export function prepareStreamingTables(db: Db): void {
  db.exec(SCHEMA);
  for (const [table, column, type] of ADDED_COLUMNS) {
    const columns = db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table);
    if (!columns.includes(column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}
