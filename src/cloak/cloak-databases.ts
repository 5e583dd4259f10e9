// Where the cloak keeps what: cloak.db in the data directory, and in server mode one PostgreSQL pool for data and bookkeeping.
import path from 'node:path';
import { AppError } from '../errors/index.ts';
import {
  describeData,
  openDatabase,
  openPostgresDb,
  sqliteSqlDb,
  type Db,
  type SqlDb,
  type SqliteSqlDb,
} from '../store/index.ts';

/** cloak.db tables with rows from the first open on: the migrations' records and the id counter. */
const CLOAK_BOOKKEEPING = ['schema_migrations', 'data_schema_migrations', 'data_sequence'];

/** The bookkeeping stores' tables (docs/cloak-bookkeeping.md): in PostgreSQL when the data is. */
const BOOKKEEPING_TABLES = [
  'budget_runs',
  'budget_buckets',
  'budget_pages',
  // Users' spending in a cloak.db of a release before budget pages (budget-schema.ts, step 3).
  'budget_users',
  'budget_disclosures',
  'release_epochs',
  'streaming_tasks',
  'streaming_users',
];

/** Prefixes of the cloak's tables in a PostgreSQL database (the air's, if it shares it, differ). */
const CLOAK_TABLE_PREFIXES = ['cloak', 'data', 'budget', 'release', 'streaming'];

/*
 * Two places. cloak.db in the data directory always opens: it holds the embedded default's
 * everything, and it is where an installation that moved to PostgreSQL left its older data, which
 * the noise secret check must still see. With `cloak.store` a PostgreSQL URL, everything several
 * API servers must agree on goes to that database instead: user data, and the bookkeeping (the
 * participation budget's ledger, the release epochs, the streaming state). One server's budget
 * ledger in its own cloak.db would let every server charge a user's whole budget again.
 *
 * One pool. The data store and the bookkeeping share one pool on that database: the connections a
 * server holds stay one pool's worth (each server and worker counts against max_connections). The
 * one transaction that waits on statements outside it, a streaming pass's lock (streaming-state.ts),
 * holds one connection per process at a time, so it cannot take the pool from under its own pass.
 * The data store's user streams open connections of their own (postgres-snapshot.ts).
 */
export interface CloakDatabases {
  /** cloak.db behind the async seam (the only wrapper of it: see Cloak.sql). */
  local: SqliteSqlDb;
  /** The PostgreSQL database `cloak.store` names, or undefined for the embedded default. */
  shared: SqlDb | undefined;
  /** What data there is, for the noise secret check (noise-secret.ts): cloak.db's, then PostgreSQL's. */
  describeData(): Promise<string | undefined>;
  /**
   * With a PostgreSQL store: refuses a cloak.db that still holds bookkeeping rows (an embedded
   * installation moved to PostgreSQL), which would otherwise be silently forgotten, budget and all.
   */
  checkNothingLeftLocal(): void;
  /** Throws unless every database answers a trivial query (readiness). */
  ping(): Promise<void>;
  /** Closes cloak.db at once; resolves when the pool has ended. */
  close(): Promise<void>;
}

/** Opens cloak.db, and the pool on `store` when it is a PostgreSQL URL (connecting lazily). */
export function openCloakDatabases(dataDir: string, store: string | undefined): CloakDatabases {
  const raw = openDatabase(path.join(dataDir, 'cloak.db'));
  const local = sqliteSqlDb(raw);
  const shared = store !== undefined && isPostgresUrl(store) ? openPostgresDb(store) : undefined;
  let ended: Promise<void> | undefined;
  return {
    local,
    shared,
    describeData: async () =>
      describeData(raw, 'cloak.db', CLOAK_BOOKKEEPING) ??
      (shared ? await describePostgresData(shared) : undefined),
    checkNothingLeftLocal: () => {
      if (!shared) return;
      const tables = listTables(raw);
      // One row is enough to know (the names are constants, no quoting needed).
      const table = BOOKKEEPING_TABLES.find(
        (name) => tables.includes(name) && raw.prepare(`SELECT 1 FROM ${name} LIMIT 1`).get(),
      );
      if (table !== undefined) {
        throw new AppError('CLOAK_BOOKKEEPING_LEFT_LOCAL', {
          found: `rows in ${table}`,
          file: path.join(dataDir, 'cloak.db'),
        });
      }
    },
    ping: async () => {
      raw.prepare('SELECT 1').get();
      if (shared) await shared.get('SELECT 1 AS one');
    },
    // cloak.db closes at once, as it always did (callers may reopen the directory right after);
    // the pool ends once, however often this is called (ending a pg pool twice rejects).
    close: () => {
      if (raw.open) raw.close();
      return (ended ??= shared ? shared.close() : Promise.resolve());
    },
  };
}

function listTables(db: Db): string[] {
  return db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all() as string[];
}

export function isPostgresUrl(address: string): boolean {
  return /^postgres(ql)?:\/\//.test(address);
}

/**
 * The first of the cloak's tables in the PostgreSQL database that has a row: a second server whose
 * data directory lacks the installation's noise secret must not make a new one for data that
 * other servers wrote with the old (its user keys would differ, and with them every budget). The
 * first server's check of its secret (installation-secret.ts) counts: from its start on, others
 * need the secret.
 */
async function describePostgresData(db: SqlDb): Promise<string | undefined> {
  const tables = await db.all<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  for (const { name } of tables) {
    const prefix = name.split('_')[0] ?? '';
    if (!CLOAK_TABLE_PREFIXES.includes(prefix) || CLOAK_BOOKKEEPING.includes(name)) continue;
    // One row is enough to know, and stays fast on tables of millions.
    if (await db.get(`SELECT 1 AS one FROM "${name.replaceAll('"', '""')}" LIMIT 1`)) {
      return `rows in ${name} of the cloak's PostgreSQL database`;
    }
  }
  return undefined;
}
