// The embedded data store: CloakDataStore on SQLite (cloak.db), an async face on a synchronous core.
import type { Readable } from 'node:stream';
import type { PrefetchSpec } from '../../shared/index.ts';
import type { SqliteSqlDb } from '../../store/index.ts';
import type { SqlTaskQuery } from '../sql-task/sql-task-model.ts';
import type { CloakDataStore, LookupReader } from './data-store.ts';
import type { ImportOptions, ImportResult } from './file-import.ts';
import { RowWriter, StaleRowBatch } from './row-writer.ts';
import type { InsertCounts } from './insert.ts';
import { migrateDataStore } from './schema.ts';
import type { CompiledSqlTask } from './sql-compile.ts';
import type { GroupLimits, SqlUserGroups } from './sql-groups.ts';
import { SqliteDataCore } from './sqlite-data-core.ts';
import type { TableInfo } from './table-catalogue.ts';
import type { UserData } from './user-stream.ts';

/**
 * Every method calls the synchronous core: better-sqlite3 never waits, so wrapping its answers in
 * promises costs one microtask per call, and the hot paths (a whole insert transaction, the
 * per-user stream) run inside the core without any promise in between. Writes go through
 * `exclusive`: cloak.db's one connection is shared with the bookkeeping stores, whose transactions
 * await, and a write made while one is open would join it (and roll back with a budget preview).
 */
export class SqliteDataStore implements CloakDataStore {
  readonly dialect = 'sqlite';

  /** Writes large uploads beside this thread (cloak.db as a file only). */
  #writer: RowWriter | undefined;

  private constructor(
    readonly sync: SqliteDataCore,
    private readonly db: SqliteSqlDb,
    private readonly insertThreadMinRows: number,
  ) {}

  /** Migrates the schema (one runner, component `cloak-data`), then opens the store on it. */
  static async open(
    db: SqliteSqlDb,
    options: { insertThreadMinRows?: number } = {},
  ): Promise<SqliteDataStore> {
    await migrateDataStore(db);
    const minRows = db.raw.memory
      ? Infinity
      : (options.insertThreadMinRows ?? INSERT_THREAD_MIN_ROWS);
    return new SqliteDataStore(new SqliteDataCore(db.raw), db, minRows);
  }

  async createTable(orgId: string, def: unknown): Promise<TableInfo> {
    return this.db.exclusive(() => this.sync.createTable(orgId, def));
  }

  async alterTable(orgId: string, name: string, change: unknown): Promise<TableInfo> {
    return this.db.exclusive(() => this.sync.alterTable(orgId, name, change));
  }

  async dropTable(orgId: string, name: string): Promise<void> {
    return this.db.exclusive(() => this.sync.dropTable(orgId, name));
  }

  async listTables(orgId: string): Promise<TableInfo[]> {
    return this.sync.listTables(orgId);
  }

  async getTable(orgId: string, name: string): Promise<TableInfo | undefined> {
    return this.sync.getTable(orgId, name);
  }

  async rowCount(orgId: string, name: string): Promise<number> {
    return this.sync.rowCount(orgId, name);
  }

  async userCount(orgId: string, tables: readonly string[]): Promise<number> {
    return this.sync.userCount(orgId, tables);
  }

  /**
   * An upload of INSERT_THREAD_MIN_ROWS rows or more is checked here, outside the write lock, and
   * written by a thread of its own (row-writer.ts) while this one goes on: the next request's
   * body is parsed and checked while this one's rows are written. Smaller ones are written here.
   * Either way the rows are stored in one transaction, with the same sequences and answer.
   */
  async insert(orgId: string, payload: unknown, now?: number): Promise<InsertCounts> {
    const here = () => this.db.exclusive(() => this.sync.insert(orgId, payload, now));
    if (rowsIn(payload) < this.insertThreadMinRows) return here();
    const checked = this.sync.checkInsert(orgId, payload);
    const writer = (this.#writer ??= new RowWriter(this.db.raw.name, false));
    const place = now === undefined ? { orgId } : { orgId, arrival: now };
    try {
      // Under the lock: no bookkeeping transaction of this connection opens meanwhile, as for
      // a write made here.
      await this.db.exclusive(() => writer.write(checked, place));
    } catch (error) {
      // A table altered or dropped since the check: checked again and written here.
      if (error instanceof StaleRowBatch) return here();
      // A thread that has gone is not asked again: the next upload starts another. This one
      // fails (whether its commit was made before the thread went is not known).
      if (writer.broken && this.#writer === writer) this.#writer = undefined;
      throw error;
    }
    return { users: checked.users, rows: checked.rows };
  }

  importFile(orgId: string, input: Readable, options: ImportOptions): Promise<ImportResult> {
    // Its chunks commit one by one across awaits: no budget transaction may open in between.
    return this.db.exclusive(() => this.sync.importFile(orgId, input, options));
  }

  async deleteUser(orgId: string, userId: string): Promise<number> {
    return this.db.exclusive(() => this.sync.deleteUser(orgId, userId));
  }

  async setLookupTable(orgId: string, name: string, pairs: unknown): Promise<void> {
    return this.db.exclusive(() => this.sync.setLookupTable(orgId, name, pairs));
  }

  async removeLookupTable(orgId: string, name: string): Promise<void> {
    return this.db.exclusive(() => this.sync.removeLookupTable(orgId, name));
  }

  async lookup(orgId: string, table: string, key: string): Promise<string | undefined> {
    return this.sync.lookup(orgId, table, key);
  }

  async lookupReader(orgId: string): Promise<LookupReader> {
    return (table, key) => this.sync.lookup(orgId, table, key);
  }

  async listLookupTables(orgId: string): Promise<string[]> {
    return this.sync.listLookupTables(orgId);
  }

  async validatePrefetch(orgId: string, prefetch: unknown): Promise<PrefetchSpec[]> {
    return this.sync.validatePrefetch(orgId, prefetch);
  }

  async *streamUsers(
    orgId: string,
    prefetch: PrefetchSpec[],
    now: number = Date.now(),
    userIds?: readonly string[],
  ): AsyncGenerator<UserData, void, undefined> {
    yield* this.sync.streamUsers(orgId, prefetch, now, userIds);
  }

  async compileSqlTask(orgId: string, query: SqlTaskQuery): Promise<CompiledSqlTask> {
    return this.sync.compileSqlTask(orgId, query);
  }

  async *streamSqlGroups(
    orgId: string,
    query: SqlTaskQuery,
    limits: GroupLimits,
    userIds?: readonly string[],
  ): AsyncGenerator<SqlUserGroups[], void, undefined> {
    yield* this.sync.streamSqlGroupsThreaded(orgId, query, limits, userIds);
  }

  async arrivedSince(
    orgId: string,
    tables: readonly string[],
    sinceSeq: number,
    untilSeq?: number,
  ): Promise<{ userIds: string[]; nextSeq: number }> {
    return this.sync.arrivedSince(orgId, tables, sinceSeq, untilSeq);
  }

  async indexArrivals(orgId: string, name: string): Promise<void> {
    return this.db.exclusive(() => this.sync.indexArrivals(orgId, name));
  }

  /** Closes the database only when the store opened it (openDataStore); see there. */
  async close(): Promise<void> {
    await this.#writer?.close();
    await this.db.close();
  }
}

/**
 * Rows from which an upload is written by the thread: handing it over costs a copy of the rows and
 * two messages (a fraction of a millisecond), a thousand rows about 1.5 ms of SQLite's time.
 */
export const INSERT_THREAD_MIN_ROWS = 1000;

/** The rows a payload `{"<user>": {"<table>": [rows]}}` holds, 0 for any other shape. */
function rowsIn(payload: unknown): number {
  if (payload === null || typeof payload !== 'object') return 0;
  let rows = 0;
  for (const tables of Object.values(payload)) {
    if (tables === null || typeof tables !== 'object') continue;
    for (const list of Object.values(tables)) if (Array.isArray(list)) rows += list.length;
  }
  return rows;
}
