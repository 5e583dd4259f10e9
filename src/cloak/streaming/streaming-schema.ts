// The streaming engine's tables in the cloak's database, as migration steps for SQLite and PostgreSQL.
import { runMigrations, type MigrationStep, type SqlDb } from '../../store/index.ts';
import { addMissingColumns, legacyWhenAnyOf } from '../legacy-tables.ts';

export const STREAMING_COMPONENT = 'cloak-streaming';

/*
 * Exactly once per arrival. A pass runs the users whose rows arrived in [next_seq, pass_target).
 * `pass_target` is written before the first user runs, and each user's new state is saved with
 * `through_seq` = that target in one transaction. A pass cut off by a crash (kill -9) is resumed
 * with the same target, skipping the users whose `through_seq` already reaches it: so a user's
 * accumulator advances once per pass that saw new rows of theirs, however often the process dies.
 * Only when every user ran does next_seq move to the target and pass_target go back to NULL.
 */
const TABLES = (int: string, withoutRowid: string) => `
  CREATE TABLE IF NOT EXISTS streaming_tasks (
    task_key TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    next_seq ${int} NOT NULL,
    last_report TEXT,
    pass_target ${int}
  );
  CREATE TABLE IF NOT EXISTS streaming_users (
    task_key TEXT NOT NULL,
    user_id TEXT NOT NULL,
    properties TEXT NOT NULL,
    error TEXT,
    accumulator TEXT,
    updated_at ${int} NOT NULL,
    through_seq ${int},
    PRIMARY KEY (task_key, user_id)
  )${withoutRowid};
`;

const STEPS: readonly MigrationStep[] = [
  {
    version: 1,
    name: 'streaming-tables',
    up: { sqlite: TABLES('INTEGER', ' WITHOUT ROWID'), postgres: TABLES('BIGINT', '') },
  },
  {
    version: 2,
    name: 'streaming-columns-of-older-releases',
    // Data directories made before exactly-once passes lack these (SQLite only: see there).
    up: async (tx) => {
      await addMissingColumns(tx, [
        ['streaming_tasks', 'pass_target', 'INTEGER'],
        ['streaming_users', 'through_seq', 'INTEGER'],
      ]);
    },
  },
];

/** Brings the streaming engine's tables to the current version (existing cloak.db files too). */
export async function migrateStreamingTables(db: SqlDb): Promise<void> {
  await runMigrations(db, STREAMING_COMPONENT, STEPS, {
    legacyVersion: legacyWhenAnyOf('streaming_tasks', 'streaming_users'),
  });
}
