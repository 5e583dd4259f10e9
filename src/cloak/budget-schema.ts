// The participation budget's tables in the cloak's database, as migration steps for SQLite and PostgreSQL.
import { runMigrations, type MigrationStep, type SqlDb } from '../store/index.ts';
import { addMissingColumns, legacyWhenAnyOf } from './legacy-tables.ts';

/** The component's name in `schema_migrations`. */
export const BUDGET_COMPONENT = 'cloak-budget';

/*
 * budget_runs: per organisation, the settled runs' numbers and the notices' numbers (taken when a
 * run starts). budget_buckets: every bucket an organisation was shown, by hash, with where it was
 * first settled. budget_users: per (organisation, keyed user hash) the loss spent in `period`.
 * budget_disclosures: every notice published (budget-disclosure-log.ts).
 */
const SQLITE = `
  CREATE TABLE IF NOT EXISTS budget_runs (
    org_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL,
    period INTEGER NOT NULL DEFAULT 0,
    period_runs INTEGER NOT NULL DEFAULT 0,
    period_first_seq INTEGER NOT NULL DEFAULT 1,
    notice_seq INTEGER NOT NULL DEFAULT 0,
    notice_period INTEGER NOT NULL DEFAULT 0,
    notice_period_runs INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE TABLE IF NOT EXISTS budget_buckets (
    org_id TEXT NOT NULL,
    hash BLOB NOT NULL,
    seq INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    basis INTEGER,
    PRIMARY KEY (org_id, hash)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS budget_users (
    org_id TEXT NOT NULL,
    user_hash BLOB NOT NULL,
    spent REAL NOT NULL,
    exhausted_seq INTEGER,
    exhausted_idx INTEGER,
    period INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, user_hash)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS budget_disclosures (
    org_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    period INTEGER NOT NULL,
    period_run INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('run', 'preview')),
    notice TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
  ) STRICT, WITHOUT ROWID;
`;

const POSTGRES = `
  CREATE TABLE IF NOT EXISTS budget_runs (
    org_id TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    period BIGINT NOT NULL DEFAULT 0,
    period_runs BIGINT NOT NULL DEFAULT 0,
    period_first_seq BIGINT NOT NULL DEFAULT 1,
    notice_seq BIGINT NOT NULL DEFAULT 0,
    notice_period BIGINT NOT NULL DEFAULT 0,
    notice_period_runs BIGINT NOT NULL DEFAULT 0
  );
  CREATE TABLE IF NOT EXISTS budget_buckets (
    org_id TEXT NOT NULL,
    hash BYTEA NOT NULL,
    seq BIGINT NOT NULL,
    idx INTEGER NOT NULL,
    basis BIGINT,
    PRIMARY KEY (org_id, hash)
  );
  CREATE TABLE IF NOT EXISTS budget_users (
    org_id TEXT NOT NULL,
    user_hash BYTEA NOT NULL,
    spent DOUBLE PRECISION NOT NULL,
    exhausted_seq BIGINT,
    exhausted_idx INTEGER,
    period BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, user_hash)
  );
  CREATE TABLE IF NOT EXISTS budget_disclosures (
    org_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    period BIGINT NOT NULL,
    period_run BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('run', 'preview')),
    notice TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
  );
`;

/** Columns added to the first release's tables, which older cloak.db files may lack. */
const ADDED_COLUMNS = [
  ['budget_buckets', 'basis', 'INTEGER'],
  ['budget_runs', 'period', 'INTEGER NOT NULL DEFAULT 0'],
  ['budget_runs', 'period_runs', 'INTEGER NOT NULL DEFAULT 0'],
  ['budget_runs', 'period_first_seq', 'INTEGER NOT NULL DEFAULT 1'],
  ['budget_users', 'period', 'INTEGER NOT NULL DEFAULT 0'],
  ['budget_runs', 'notice_seq', 'INTEGER NOT NULL DEFAULT 0'],
  ['budget_runs', 'notice_period', 'INTEGER NOT NULL DEFAULT 0'],
  ['budget_runs', 'notice_period_runs', 'INTEGER NOT NULL DEFAULT 0'],
] as const;

export const BUDGET_STEPS: readonly MigrationStep[] = [
  { version: 1, name: 'budget-tables', up: { sqlite: SQLITE, postgres: POSTGRES } },
  {
    version: 2,
    name: 'budget-tables-of-older-releases',
    up: async (tx) => {
      if (tx.dialect !== 'sqlite') return;
      // A cloak.db adopted at version 1 may lack a table (the log came later) or columns.
      await tx.exec(SQLITE);
      const added = await addMissingColumns(tx, ADDED_COLUMNS);
      // Buckets settled before noise counts were stored keep a null basis (their count's noise);
      // rows from before periods belong to period 0. Notices used to take the settlement's
      // numbers: they go on from them, so that no seed and no k of the period is used twice.
      if (added.has('budget_runs.notice_seq')) {
        await tx.exec(`UPDATE budget_runs SET notice_seq = last_seq, notice_period = period,
                       notice_period_runs = period_runs`);
      }
    },
  },
];

/** Brings the budget's tables to the current version (existing cloak.db files included). */
export async function migrateBudgetTables(db: SqlDb): Promise<void> {
  await runMigrations(db, BUDGET_COMPONENT, BUDGET_STEPS, {
    legacyVersion: legacyWhenAnyOf('budget_runs', 'budget_users', 'budget_disclosures'),
  });
}
