// The participation budget's tables in the cloak's database, as migration steps for SQLite and PostgreSQL.
import { runMigrations, type MigrationStep, type SqlDb, type SqlExecutor } from '../store/index.ts';
import type { UserState } from './budget-account.ts';
import {
  MAX_PAGE_BITS,
  MIN_PAGE_BITS,
  pageOf,
  pageOfRecords,
  SPLIT_RECORDS,
} from './budget-pages.ts';
import { addMissingColumns, legacyWhenAnyOf, tableExists } from './legacy-tables.ts';

/** The component's name in `schema_migrations`. */
export const BUDGET_COMPONENT = 'cloak-budget';

/*
 * budget_runs: per organisation, the settled runs' numbers and the notices' numbers (taken when a
 * run starts), from version 3 its page size and how many users ran out in the current period.
 * budget_buckets: every bucket an organisation was shown, by hash, with where it was first
 * settled. budget_pages (version 3): per (organisation, page) the states of the page's users,
 * each the loss spent in a period (budget-pages.ts); until version 3 one row per user in
 * budget_users. budget_disclosures: every notice published (budget-disclosure-log.ts).
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
  { version: 3, name: 'budget-users-in-pages', up: usersIntoPages },
];

const PAGES = {
  sqlite: `CREATE TABLE IF NOT EXISTS budget_pages (
             org_id TEXT NOT NULL,
             page INTEGER NOT NULL,
             states BLOB NOT NULL,
             PRIMARY KEY (org_id, page)
           ) STRICT`,
  postgres: `CREATE TABLE IF NOT EXISTS budget_pages (
               org_id TEXT NOT NULL,
               page INTEGER NOT NULL,
               states BYTEA NOT NULL,
               PRIMARY KEY (org_id, page)
             )`,
};

const RUN_COLUMNS = [
  ['page_bits', `INTEGER NOT NULL DEFAULT ${MIN_PAGE_BITS}`],
  ['exhausted_period', 'BIGINT NOT NULL DEFAULT 0'],
  ['exhausted_users', 'BIGINT NOT NULL DEFAULT 0'],
] as const;

/** Users' rows read per statement while moving them into pages. */
const USERS_PER_READ = 10_000;

/**
 * Version 3: users' states move from one row each into pages. Each organisation's pages get the
 * size its users need (at most SPLIT_RECORDS a page on average), its count of users who ran out
 * in its current period is taken from the rows, and budget_users goes.
 */
async function usersIntoPages(tx: SqlExecutor): Promise<void> {
  await tx.exec(PAGES[tx.dialect]);
  for (const [column, definition] of RUN_COLUMNS) {
    await tx.exec(
      tx.dialect === 'sqlite'
        ? `ALTER TABLE budget_runs ADD COLUMN ${column} ${definition.replace('BIGINT', 'INTEGER')}`
        : `ALTER TABLE budget_runs ADD COLUMN IF NOT EXISTS ${column} ${definition}`,
    );
  }
  if (!(await tableExists(tx, 'budget_users'))) return;
  const orgs = await tx.all<{ org_id: string; users: number }>(
    'SELECT org_id, count(*) AS users FROM budget_users GROUP BY org_id',
  );
  for (const { org_id: orgId, users } of orgs) {
    let bits = MIN_PAGE_BITS;
    while (Number(users) > SPLIT_RECORDS * 2 ** bits && bits < MAX_PAGE_BITS) bits++;
    // Runs settled before version 3 all have a row here; one that never settled has none.
    await tx.run(
      `INSERT INTO budget_runs (org_id, last_seq) VALUES (?, 0) ON CONFLICT (org_id) DO NOTHING`,
      [orgId],
    );
    const { period } = (await tx.get<{ period: number }>(
      'SELECT period FROM budget_runs WHERE org_id = ?',
      [orgId],
    ))!;
    const out = await tx.get<{ n: number }>(
      `SELECT count(*) AS n FROM budget_users
       WHERE org_id = ? AND period = ? AND exhausted_seq IS NOT NULL`,
      [orgId, period],
    );
    await tx.run(
      'UPDATE budget_runs SET page_bits = ?, exhausted_period = ?, exhausted_users = ? WHERE org_id = ?',
      [bits, period, Number(out?.n ?? 0), orgId],
    );
    await movePages(tx, orgId, bits);
  }
  await tx.exec('DROP TABLE budget_users');
}

/** One organisation's rows, in hash order, a page at a time into budget_pages. */
async function movePages(tx: SqlExecutor, orgId: string, bits: number): Promise<void> {
  type Row = {
    user_hash: Buffer;
    spent: number;
    exhausted_seq: number | null;
    exhausted_idx: number | null;
    period: number;
  };
  let page = -1;
  let records: Array<[Buffer, UserState, number]> = [];
  const save = async () => {
    if (records.length === 0) return;
    await tx.run('INSERT INTO budget_pages (org_id, page, states) VALUES (?, ?, ?)', [
      orgId,
      page,
      pageOfRecords(records),
    ]);
    records = [];
  };
  let after: Buffer = Buffer.alloc(0);
  for (;;) {
    const rows = await tx.all<Row>(
      `SELECT user_hash, spent, exhausted_seq, exhausted_idx, period FROM budget_users
       WHERE org_id = ? AND user_hash > ? ORDER BY user_hash LIMIT ${USERS_PER_READ}`,
      [orgId, after],
    );
    for (const row of rows) {
      const id = pageOf(row.user_hash, bits);
      if (id !== page) {
        await save();
        page = id;
      }
      // Rows come in hash order, so each page's records do; each keeps its own period.
      const exhausted: [number, number] | undefined =
        row.exhausted_seq === null
          ? undefined
          : [Number(row.exhausted_seq), Number(row.exhausted_idx ?? 0)];
      records.push([
        row.user_hash,
        { spent: row.spent, exhausted, dirty: false },
        Number(row.period),
      ]);
    }
    if (rows.length < USERS_PER_READ) break;
    after = rows[rows.length - 1]!.user_hash;
  }
  await save();
}

/** Brings the budget's tables to the current version (existing cloak.db files included). */
export async function migrateBudgetTables(db: SqlDb): Promise<void> {
  await runMigrations(db, BUDGET_COMPONENT, BUDGET_STEPS, {
    legacyVersion: legacyWhenAnyOf('budget_runs', 'budget_users', 'budget_disclosures'),
  });
}
