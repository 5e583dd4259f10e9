// CloakDataStore: the contract every implementation of the cloak's data store keeps (SQLite, PostgreSQL).
import type { Readable } from 'node:stream';
import type { PrefetchSpec } from '../../shared/index.ts';
import type { SqlTaskQuery } from '../sql-task/sql-task-model.ts';
import type { ImportOptions, ImportResult } from './file-import.ts';
import type { InsertCounts } from './insert.ts';
import type { CompiledSqlTask } from './sql-compile.ts';
import type { GroupLimits, SqlUserGroups } from './sql-groups.ts';
import type { TableInfo } from './table-catalogue.ts';
import type { SqliteDataCore } from './sqlite-data-core.ts';
import type { UserData } from './user-stream.ts';

/** Answers task code's `lookup(table, key)` without waiting (the sandbox asks synchronously). */
export type LookupReader = (table: string, key: string) => string | undefined;

/**
 * The cloak's user tables, raw rows and lookup tables. Trusted: raw rows leave only through
 * `streamUsers` (to the sandbox) and `streamSqlGroups` (per-user group sets, no rows).
 *
 * - **Scope.** Every method takes the organisation from the caller's certificate; the store never
 *   reaches another organisation's tables, rows or lookup tables, even under the same names.
 * - **Errors.** Bad input is an AppError with the same code on every implementation
 *   (TABLE_EXISTS, UNKNOWN_TABLE, UNKNOWN_COLUMN, INVALID_ROW, NAME_TAKEN, ...).
 * - **Transactions.** `insert` is all or nothing; a table change and its catalogue entry commit
 *   together; an import stores each batch with its position (import-progress.ts).
 * - **Ordering.** Every row gets an arrival sequence, unique and never reused, increasing in
 *   payload order. Streams yield users in user-id order (binary order of the UTF-8 text, the same
 *   on both dialects) and each user's rows in arrival order, all read from one snapshot.
 * - **Partitions.** `streamUsers(..., userIds)` and `streamSqlGroups(..., userIds)` read only the
 *   given users: how streaming passes and distributed runs read their shard.
 * - **Watermark.** `arrivedSince` returns a sequence below which every row is committed, so a
 *   pass that continues from it misses nothing and sees nothing twice.
 */
export interface CloakDataStore {
  readonly dialect: 'sqlite' | 'postgres';
  createTable(orgId: string, def: unknown): Promise<TableInfo>;
  /** `{add?: [{name, type}], drop?: [name]}`; drops apply first. */
  alterTable(orgId: string, name: string, change: unknown): Promise<TableInfo>;
  /** Removes the table and all its rows. */
  dropTable(orgId: string, name: string): Promise<void>;
  listTables(orgId: string): Promise<TableInfo[]>;
  getTable(orgId: string, name: string): Promise<TableInfo | undefined>;
  /** For tests and administration; analysts only ever see anonymized counts. */
  rowCount(orgId: string, name: string): Promise<number>;
  /** Users with rows in any of `tables`, before filters: what a run's progress counts towards. */
  userCount(orgId: string, tables: readonly string[]): Promise<number>;
  /** A /bulk_insert payload `{"<user>": {"<table>": [rows]}}`, stored all or nothing. */
  insert(orgId: string, payload: unknown, now?: number): Promise<InsertCounts>;
  /** Streams a CSV or NDJSON file into `options.table` in batches, resumable (file-import.ts). */
  importFile(orgId: string, input: Readable, options: ImportOptions): Promise<ImportResult>;
  /** Forgets a user: every row of theirs in every table of the organisation. Returns the rows removed. */
  deleteUser(orgId: string, userId: string): Promise<number>;
  setLookupTable(orgId: string, name: string, pairs: unknown): Promise<void>;
  removeLookupTable(orgId: string, name: string): Promise<void>;
  lookup(orgId: string, table: string, key: string): Promise<string | undefined>;
  /**
   * What a run's task code reads with lookup(): SQLite answers from the database each time;
   * PostgreSQL reads the organisation's lookup tables once, so a run sees one version of them.
   */
  lookupReader(orgId: string): Promise<LookupReader>;
  listLookupTables(orgId: string): Promise<string[]>;
  validatePrefetch(orgId: string, prefetch: unknown): Promise<PrefetchSpec[]>;
  /**
   * Users in user-id order, each with their selected rows in arrival order, read lazily. A bad
   * prefetch rejects the first `next()`.
   */
  streamUsers(
    orgId: string,
    prefetch: PrefetchSpec[],
    now?: number,
    userIds?: readonly string[],
  ): AsyncIterable<UserData>;
  /** Checks a parsed sql task against the organisation's tables (INVALID_SQL_TASK) and compiles it. */
  compileSqlTask(orgId: string, query: SqlTaskQuery): Promise<CompiledSqlTask>;
  /**
   * Per user, in user-id order, the distinct groups that user's rows fall in; a batch of users
   * at a time (SQL_GROUP_BATCH), so that the asynchronous step is not paid per user.
   */
  streamSqlGroups(
    orgId: string,
    query: SqlTaskQuery,
    limits: GroupLimits,
    userIds?: readonly string[],
  ): AsyncIterable<SqlUserGroups[]>;
  /** Users with rows that arrived in [sinceSeq, next) in any of `tables`, and that next sequence. */
  arrivedSince(
    orgId: string,
    tables: readonly string[],
    sinceSeq: number,
    untilSeq?: number,
  ): Promise<{ userIds: string[]; nextSeq: number }>;
  /** Makes arrivedSince cheap on a table that a streaming task watches (idempotent). */
  indexArrivals(orgId: string, name: string): Promise<void>;
  /**
   * The embedded store's synchronous core, for the callers that are still synchronous (task
   * validation behind the air's CloakPort, streaming registration) until their interfaces turn
   * async; undefined on PostgreSQL. New code uses the async methods.
   */
  readonly sync: SqliteDataCore | undefined;
  close(): Promise<void>;
}

/**
 * The synchronous core, for the few callers whose own interface is still synchronous (the air's
 * CloakPort.validateTask, StreamingEngine.register): a clear error in server mode until those
 * interfaces turn async, rather than a silent wrong answer.
 */
export function requireSync(data: CloakDataStore, what: string): SqliteDataCore {
  if (data.sync) return data.sync;
  throw new Error(
    `${what} is still synchronous and needs the embedded SQLite data store; with a PostgreSQL store it waits for the async CloakPort (issue 15, item 5).`,
  );
}
