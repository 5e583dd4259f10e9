// The SQLite data store's synchronous core: user tables, rows and lookup tables in cloak.db, scoped by organisation.
import type Database from 'better-sqlite3';
import type { PrefetchSpec } from '../../shared/index.ts';
import type { Readable } from 'node:stream';
import { importFile, type ImportOptions, type ImportResult } from './file-import.ts';
import { ImportProgress, type ImportPosition } from './import-progress.ts';
import { ImportBatches } from './row-writer.ts';
import { checkPayload, insertPayload, type CheckedPayload, type InsertCounts } from './insert.ts';
import { LookupTables } from './lookup-tables.ts';
import { quoteIdentifier } from './names.ts';
import {
  checkOrg,
  checkTableChange,
  parseTableChange,
  parseTableDefinition,
} from './table-definitions.ts';
import { validatePrefetch } from './prefetch-validation.ts';
import { checkUserId } from './row-validation.ts';
import {
  physicalTableName,
  publicInfo,
  TableCatalogue,
  type StoredTable,
  type TableInfo,
} from './table-catalogue.ts';
import type { SqlTaskQuery } from '../sql-task/sql-task-model.ts';
import { compileSqlTask, type CompiledSqlTask } from './sql-compile.ts';
import { sqlScope, streamSqlGroups, type GroupLimits, type SqlUserGroups } from './sql-groups.ts';
import { streamSqlGroupsThreaded, type ThreadOptions } from './sql-groups-thread.ts';
import { streamUserData, type UserData } from './user-stream.ts';

/**
 * Trusted cloak code: raw rows are read here and handed only to the task sandbox. Every method
 * takes the organisation from the caller's certificate and never reaches another organisation's
 * tables, rows or lookup tables. Synchronous on purpose: better-sqlite3 answers without waiting,
 * and the insert and stream hot paths stay free of promise overhead; `SqliteDataStore` puts the
 * async `CloakDataStore` interface in front. The schema must exist (migrateDataStore) first.
 */
export class SqliteDataCore {
  private readonly catalogue: TableCatalogue;
  private readonly lookups: LookupTables;

  constructor(private readonly db: Database.Database) {
    this.catalogue = new TableCatalogue(db);
    this.lookups = new LookupTables(db);
  }

  createTable(orgId: string, def: unknown): TableInfo {
    checkOrg(orgId);
    const { name, columns } = parseTableDefinition(def);
    return publicInfo(
      this.db
        .transaction(() => this.catalogue.create(orgId, name, columns, Date.now()))
        .immediate(),
    );
  }

  /** `{add?: [{name, type}], drop?: [name]}`; drops apply first, so a column can be re-created with a new type. */
  alterTable(orgId: string, name: string, change: unknown): TableInfo {
    checkOrg(orgId);
    const { add, drop } = parseTableChange(change);
    return publicInfo(
      this.db
        .transaction(() => {
          const table = this.catalogue.require(orgId, name);
          checkTableChange(table, add, drop);
          return this.catalogue.alter(table, drop, add, Date.now());
        })
        .immediate(),
    );
  }

  /** Removes the table and all its rows. */
  dropTable(orgId: string, name: string): void {
    checkOrg(orgId);
    this.db.transaction(() => this.catalogue.drop(this.catalogue.require(orgId, name))).immediate();
  }

  listTables(orgId: string): TableInfo[] {
    checkOrg(orgId);
    return this.catalogue.list(orgId).map(publicInfo);
  }

  getTable(orgId: string, name: string): TableInfo | undefined {
    checkOrg(orgId);
    const table = this.catalogue.find(orgId, name);
    return table && publicInfo(table);
  }

  /** For tests and administration; analysts only ever see anonymized counts. */
  rowCount(orgId: string, name: string): number {
    checkOrg(orgId);
    return this.catalogue.rowCount(this.catalogue.require(orgId, name));
  }

  /** Users with rows in any of `tables`, before filters: what a run's progress counts towards. */
  userCount(orgId: string, tables: readonly string[]): number {
    // DISTINCT in each part: a UNION of one SELECT removes no duplicates, and then every row of a
    // one-table task counted as a user (a run of 100k users x 10 rows waited for 2^20).
    const selects = this.physicalTables(orgId, tables).map(
      (t) => `SELECT DISTINCT ac_user_id FROM ${t}`,
    );
    const sql = `SELECT count(*) AS n FROM (${selects.join(' UNION ')}) AS u`;
    return (this.db.prepare(sql).get() as { n: number }).n;
  }

  /**
   * Checks a /bulk_insert payload against the tables as they are now and binds its rows, without
   * storing them (the sequences and arrival are left to whoever writes them: row-writer.ts).
   */
  checkInsert(orgId: string, payload: unknown): CheckedPayload {
    checkOrg(orgId);
    return checkPayload((name) => this.catalogue.require(orgId, name), payload, 0, 0);
  }

  /** A /bulk_insert payload `{"<user>": {"<table>": [rows]}}`, stored all or nothing. */
  insert(orgId: string, payload: unknown, now: number = Date.now()): InsertCounts {
    checkOrg(orgId);
    return insertPayload(this.db, this.catalogue, orgId, payload, now);
  }

  /**
   * Streams a CSV or NDJSON file into `options.table`, in transactions of `batchRows` rows: a bad
   * line stops the import, its batch is not stored, and the error names the line and column.
   * `importId` names the import (by default the table and source): each batch is stored with
   * its last line, so that `resume` continues exactly after what is stored (import-progress.ts).
   */
  importFile(orgId: string, input: Readable, options: ImportOptions): Promise<ImportResult> {
    checkOrg(orgId);
    const { table } = options;
    const importId = options.importId ?? `${table}:${options.source}`;
    const progress = new ImportProgress(this.db);
    const storeBatch = this.db.transaction(
      (payload: Record<string, unknown>, position: ImportPosition) => {
        insertPayload(this.db, this.catalogue, orgId, payload, Date.now());
        progress.record(orgId, table, importId, position);
      },
    );
    /** The table as the importer was given it: its checks are of this version. */
    let imported: StoredTable | undefined;
    // From the second batch on, a file's batches are stored by a thread of their own while this
    // one reads and checks the next (row-writer.ts).
    const batches = new ImportBatches({
      file: this.db.memory ? undefined : this.db.name,
      storeHere: storeBatch,
      check: (payload) => {
        // The importer checked the values against the table it was given at the start: while
        // the table is that version, they are bound without a second check. The thread refuses
        // the batch if the table has changed by the time it writes.
        const now = this.catalogue.require(orgId, table);
        const values =
          now.id === imported?.id && now.version === imported.version ? 'checked' : 'check';
        return checkPayload((name) => this.catalogue.require(orgId, name), payload, 0, 0, values);
      },
      place: { orgId, tableName: table, importId },
    });
    return importFile(
      {
        table: (name) => publicInfo((imported = this.catalogue.require(orgId, name))),
        insert: (payload, position) => batches.insert(payload, position),
        inFlight: this.db.memory ? 1 : 2,
        stored: () => progress.get(orgId, importId),
        record: (position) => progress.record(orgId, table, importId, position),
      },
      input,
      options,
    ).finally(() => batches.close());
  }

  /** Forgets a user: every row of theirs in every table of the organisation. Returns the rows removed. */
  deleteUser(orgId: string, userId: string): number {
    checkOrg(orgId);
    const user = checkUserId(userId);
    return this.db
      .transaction(() => {
        let removed = 0;
        for (const table of this.catalogue.list(orgId)) {
          const physical = quoteIdentifier(physicalTableName(table.id));
          removed += this.db
            .prepare(`DELETE FROM ${physical} WHERE ac_user_id = ?`)
            .run(user).changes;
        }
        return removed;
      })
      .immediate();
  }

  setLookupTable(orgId: string, name: string, pairs: unknown): void {
    checkOrg(orgId);
    this.lookups.set(orgId, name, pairs, Date.now());
  }

  removeLookupTable(orgId: string, name: string): void {
    checkOrg(orgId);
    this.lookups.remove(orgId, name);
  }

  lookup(orgId: string, table: string, key: string): string | undefined {
    checkOrg(orgId);
    return this.lookups.lookup(orgId, table, key);
  }

  /** Names of the organisation's lookup tables. */
  listLookupTables(orgId: string): string[] {
    checkOrg(orgId);
    return this.lookups.names(orgId);
  }

  validatePrefetch(orgId: string, prefetch: unknown): PrefetchSpec[] {
    checkOrg(orgId);
    return validatePrefetch(prefetch, {
      find: (name) => this.catalogue.find(orgId, name),
      unknown: (name) => this.catalogue.unknownTable(orgId, name),
    });
  }

  /**
   * Users in user-id order (SQLite's binary order of the UTF-8 text), each with their selected rows
   * in arrival order. A bad prefetch throws here; the rows are read lazily, one user at a time.
   */
  streamUsers(
    orgId: string,
    prefetch: PrefetchSpec[],
    now: number = Date.now(),
    userIds?: readonly string[],
  ): Iterable<UserData> {
    const specs = this.validatePrefetch(orgId, prefetch);
    return streamUserData(this.db, orgId, specs, now, userIds);
  }

  /**
   * Checks a parsed sql task against the organisation's tables and lookup tables (INVALID_SQL_TASK
   * naming the unknown name, the type mismatch and its position) and returns its compiled form.
   */
  compileSqlTask(orgId: string, query: SqlTaskQuery): CompiledSqlTask {
    checkOrg(orgId);
    return compileSqlTask(query, sqlScope(this.db, orgId));
  }

  /**
   * Per user, in user-id order (as streamUsers), the distinct groups that user's rows fall in:
   * the store's own SQL does the work, and only these per-user group sets leave it, for the
   * aggregator. Compiled again inside the read snapshot.
   */
  streamSqlGroups(
    orgId: string,
    query: SqlTaskQuery,
    limits: GroupLimits,
    userIds?: readonly string[],
  ): Iterable<SqlUserGroups> {
    checkOrg(orgId);
    return streamSqlGroups(this.db, orgId, query, limits, userIds);
  }

  /**
   * The same in batches, read by a worker thread when the tables are large (sql-groups-thread.ts),
   * so that the store's work runs beside the run's own.
   */
  streamSqlGroupsThreaded(
    orgId: string,
    query: SqlTaskQuery,
    limits: GroupLimits,
    userIds?: readonly string[],
    options?: ThreadOptions,
  ): AsyncGenerator<SqlUserGroups[], void, undefined> {
    checkOrg(orgId);
    return streamSqlGroupsThreaded(this.db, orgId, query, limits, userIds, options);
  }

  /**
   * Users with rows that arrived since `sinceSeq` in any of `tables`, and the sequence to pass next
   * time. Arrival sequences are given out under the write lock, so every row below the returned
   * sequence is committed: nothing is missed and nothing is seen twice.
   */
  arrivedSince(
    orgId: string,
    tables: readonly string[],
    sinceSeq: number,
    /** Only arrivals before this one (a pass resumed after a crash); default: all so far. */
    untilSeq?: number,
  ): { userIds: string[]; nextSeq: number } {
    const physical = this.physicalTables(orgId, tables);
    const nextSeq =
      untilSeq ??
      (
        this.db.prepare('SELECT next_seq AS n FROM data_sequence WHERE id = 1').get() as {
          n: number;
        }
      ).n;
    // DISTINCT: one table alone is no UNION, and a user with several rows would come back several times.
    const selects = physical.map(
      (t) => `SELECT DISTINCT ac_user_id FROM ${t} WHERE ac_seq >= ? AND ac_seq < ?`,
    );
    const params = selects.flatMap(() => [sinceSeq, nextSeq]);
    const rows = this.db
      .prepare(selects.join(' UNION '))
      .pluck()
      .all(...params) as string[];
    return { userIds: rows, nextSeq };
  }

  /** The quoted physical tables behind an organisation's table names, each once. */
  private physicalTables(orgId: string, tables: readonly string[]): string[] {
    checkOrg(orgId);
    return [...new Set(tables)].map((name) =>
      quoteIdentifier(physicalTableName(this.catalogue.require(orgId, name).id)),
    );
  }

  /** Makes arrivedSince cheap on a table that a streaming task watches (idempotent). */
  indexArrivals(orgId: string, name: string): void {
    checkOrg(orgId);
    const physical = physicalTableName(this.catalogue.require(orgId, name).id);
    this.db.exec(
      `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${physical}_by_seq`)} ON ${quoteIdentifier(physical)} (ac_seq)`,
    );
  }
}
