// Server mode's data store: CloakDataStore on PostgreSQL, shared by every cloak process of an installation.
import type { Readable } from 'node:stream';
import { AppError } from '../../errors/index.ts';
import type { PrefetchSpec } from '../../shared/index.ts';
import type { SqlDb, SqlExecutor } from '../../store/index.ts';
import type { SqlTaskQuery } from '../sql-task/sql-task-model.ts';
import type { CloakDataStore, LookupReader } from './data-store.ts';
import { importFile, type ImportOptions, type ImportResult } from './file-import.ts';
import type { ImportPosition } from './import-progress.ts';
import type { InsertCounts } from './insert.ts';
import { quoteIdentifier } from './names.ts';
import { isUniqueViolation, PostgresCatalogue, unknownTableError } from './postgres-catalogue.ts';
import { insertPayloadPostgres, SEQUENCE_LOCK } from './postgres-insert.ts';
import { PostgresLookups } from './postgres-lookups.ts';
import { readInPostgresSnapshot } from './postgres-snapshot.ts';
import { validatePrefetch } from './prefetch-validation.ts';
import { buildStreamQuery } from './prefetch-sql.ts';
import { checkUserId } from './row-validation.ts';
import { migrateDataStore } from './schema.ts';
import { compileSqlTask, type CompiledSqlTask, type SqlScope } from './sql-compile.ts';
import { POSTGRES_FLAVOR } from './sql-dialect.ts';
import { groupBatchesOfPages, type GroupLimits, type SqlUserGroups } from './sql-groups.ts';
import {
  physicalTableName,
  publicInfo,
  type StoredTable,
  type TableInfo,
} from './table-catalogue.ts';
import {
  checkOrg,
  checkTableChange,
  parseTableChange,
  parseTableDefinition,
} from './table-definitions.ts';
import { groupByUserAsync, type UserData } from './user-stream.ts';

/**
 * One class against the SqlDb seam for the catalogue, lookups and import progress; the hot paths
 * are PostgreSQL's own: inserts bind whole columns as arrays (postgres-insert.ts), streams page
 * through a cursor on a REPEATABLE READ snapshot (postgres-snapshot.ts). The organisation scope is
 * enforced here as on SQLite: every statement names the organisation or a table id found under it.
 */
export class PostgresDataStore implements CloakDataStore {
  readonly dialect = 'postgres';
  readonly sync = undefined;
  private readonly catalogue: PostgresCatalogue;
  private readonly lookups: PostgresLookups;

  private constructor(
    private readonly db: SqlDb,
    private readonly url: string,
  ) {
    this.catalogue = new PostgresCatalogue(db);
    this.lookups = new PostgresLookups(db);
  }

  /** `db` is a pool on `url`; streams open connections of their own on `url`. */
  static async open(db: SqlDb, url: string): Promise<PostgresDataStore> {
    if (db.dialect !== 'postgres') throw new Error('PostgresDataStore needs a PostgreSQL SqlDb');
    await migrateDataStore(db);
    return new PostgresDataStore(db, url);
  }

  async createTable(orgId: string, def: unknown): Promise<TableInfo> {
    checkOrg(orgId);
    const { name, columns } = parseTableDefinition(def);
    try {
      return publicInfo(
        await this.db.transaction((tx) =>
          new PostgresCatalogue(tx).create(orgId, name, columns, Date.now()),
        ),
      );
    } catch (error) {
      // Two servers creating the same name at once: the unique index refuses the second.
      if (!isUniqueViolation(error)) throw error;
      const winner = await this.catalogue.findIgnoringCase(orgId, name);
      throw new AppError('TABLE_EXISTS', { table: winner?.name ?? name });
    }
  }

  async alterTable(orgId: string, name: string, change: unknown): Promise<TableInfo> {
    checkOrg(orgId);
    const { add, drop } = parseTableChange(change);
    return publicInfo(
      await this.db.transaction(async (tx) => {
        const catalogue = new PostgresCatalogue(tx);
        const table = await catalogue.require(orgId, name, 'FOR UPDATE');
        checkTableChange(table, add, drop);
        return catalogue.alter(table, drop, add, Date.now());
      }),
    );
  }

  async dropTable(orgId: string, name: string): Promise<void> {
    checkOrg(orgId);
    await this.db.transaction(async (tx) => {
      const catalogue = new PostgresCatalogue(tx);
      await catalogue.drop(await catalogue.require(orgId, name, 'FOR UPDATE'));
    });
  }

  async listTables(orgId: string): Promise<TableInfo[]> {
    checkOrg(orgId);
    return (await this.catalogue.list(orgId)).map(publicInfo);
  }

  async getTable(orgId: string, name: string): Promise<TableInfo | undefined> {
    checkOrg(orgId);
    const table = await this.catalogue.find(orgId, name);
    return table && publicInfo(table);
  }

  async rowCount(orgId: string, name: string): Promise<number> {
    checkOrg(orgId);
    return this.catalogue.rowCount(await this.catalogue.require(orgId, name));
  }

  async userCount(orgId: string, tables: readonly string[]): Promise<number> {
    const selects = (await this.physicalTables(orgId, tables)).map(
      (t) => `SELECT DISTINCT ac_user_id FROM ${t}`,
    );
    const row = await this.db.get<{ n: number }>(
      `SELECT count(*) AS n FROM (${selects.join(' UNION ')}) AS u`,
    );
    return Number(row!.n);
  }

  async insert(orgId: string, payload: unknown, now: number = Date.now()): Promise<InsertCounts> {
    checkOrg(orgId);
    return this.db.transaction((tx) => insertPayloadPostgres(tx, orgId, payload, now));
  }

  importFile(orgId: string, input: Readable, options: ImportOptions): Promise<ImportResult> {
    checkOrg(orgId);
    const { table } = options;
    const importId = options.importId ?? `${table}:${options.source}`;
    return importFile(
      {
        table: async (name) => publicInfo(await this.catalogue.require(orgId, name)),
        insert: (payload, position) =>
          this.db.transaction(async (tx) => {
            await insertPayloadPostgres(tx, orgId, payload, Date.now());
            await recordProgress(tx, orgId, table, importId, position);
          }),
        stored: () => storedProgress(this.db, orgId, importId),
        record: (position) => recordProgress(this.db, orgId, table, importId, position),
      },
      input,
      options,
    );
  }

  async deleteUser(orgId: string, userId: string): Promise<number> {
    checkOrg(orgId);
    const user = checkUserId(userId);
    return this.db.transaction(async (tx) => {
      let removed = 0;
      for (const table of await new PostgresCatalogue(tx).list(orgId, 'FOR SHARE')) {
        const physical = quoteIdentifier(physicalTableName(table.id));
        removed += (await tx.run(`DELETE FROM ${physical} WHERE ac_user_id = ?`, [user])).changes;
      }
      return removed;
    });
  }

  async setLookupTable(orgId: string, name: string, pairs: unknown): Promise<void> {
    checkOrg(orgId);
    await this.lookups.set(orgId, name, pairs, Date.now());
  }

  async removeLookupTable(orgId: string, name: string): Promise<void> {
    checkOrg(orgId);
    await this.lookups.remove(orgId, name);
  }

  async lookup(orgId: string, table: string, key: string): Promise<string | undefined> {
    checkOrg(orgId);
    return this.lookups.lookup(orgId, table, key);
  }

  async lookupReader(orgId: string): Promise<LookupReader> {
    checkOrg(orgId);
    return this.lookups.reader(orgId);
  }

  async listLookupTables(orgId: string): Promise<string[]> {
    checkOrg(orgId);
    return this.lookups.names(orgId);
  }

  async validatePrefetch(orgId: string, prefetch: unknown): Promise<PrefetchSpec[]> {
    checkOrg(orgId);
    return checkPrefetch(await this.catalogue.list(orgId), prefetch);
  }

  async *streamUsers(
    orgId: string,
    prefetch: PrefetchSpec[],
    now: number = Date.now(),
    userIds?: readonly string[],
  ): AsyncGenerator<UserData, void, undefined> {
    checkOrg(orgId);
    yield* readInPostgresSnapshot(this.url, async function* (tx, rows) {
      // Validated again inside the snapshot: the SQL is built from the catalogue as it is there.
      const all = await new PostgresCatalogue(tx).list(orgId);
      const specs = checkPrefetch(all, prefetch);
      const tables = specs.map((spec) => all.find((t) => t.name === spec.table)!);
      const query = buildStreamQuery(specs, tables, now, userIds, POSTGRES_FLAVOR);
      yield* groupByUserAsync(rows(query.sql, query.params), specs, tables, query.offsets);
    });
  }

  async compileSqlTask(orgId: string, query: SqlTaskQuery): Promise<CompiledSqlTask> {
    checkOrg(orgId);
    return compileSqlTask(query, await sqlScope(this.db, orgId), undefined, POSTGRES_FLAVOR);
  }

  async *streamSqlGroups(
    orgId: string,
    query: SqlTaskQuery,
    limits: GroupLimits,
    userIds?: readonly string[],
  ): AsyncGenerator<SqlUserGroups[], void, undefined> {
    checkOrg(orgId);
    yield* readInPostgresSnapshot(this.url, async function* (tx, _rows, pages) {
      const compiled = compileSqlTask(query, await sqlScope(tx, orgId), userIds, POSTGRES_FLAVOR);
      yield* groupBatchesOfPages(pages(compiled.sql, compiled.params), compiled, limits);
    });
  }

  async arrivedSince(
    orgId: string,
    tables: readonly string[],
    sinceSeq: number,
    untilSeq?: number,
  ): Promise<{ userIds: string[]; nextSeq: number }> {
    const physical = await this.physicalTables(orgId, tables);
    const nextSeq = untilSeq ?? (await this.watermark());
    // DISTINCT: one table alone is no UNION, and a user with several rows would come back several times.
    const selects = physical.map(
      (t) =>
        `SELECT DISTINCT ac_user_id FROM ${t} WHERE ac_seq >= CAST(? AS bigint) AND ac_seq < CAST(? AS bigint)`,
    );
    const rows = await this.db.all<{ ac_user_id: string }>(
      selects.join(' UNION '),
      selects.flatMap(() => [sinceSeq, nextSeq]),
    );
    return { userIds: rows.map((r) => r.ac_user_id), nextSeq };
  }

  /** The next sequence to be drawn, once every transaction that drew one has ended (postgres-insert.ts). */
  private async watermark(): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.get('SELECT pg_advisory_xact_lock(?)', [SEQUENCE_LOCK]);
      const row = await tx.get<{ last: number; called: boolean }>(
        'SELECT last_value AS last, is_called AS called FROM data_sequence',
      );
      return row!.called ? Number(row!.last) + 1 : Number(row!.last);
    });
  }

  async indexArrivals(orgId: string, name: string): Promise<void> {
    checkOrg(orgId);
    const physical = physicalTableName((await this.catalogue.require(orgId, name)).id);
    try {
      await this.db.exec(
        `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${physical}_by_seq`)} ON ${quoteIdentifier(physical)} (ac_seq)`,
      );
    } catch (error) {
      // Two servers registering the task at once (each syncs its streaming tasks at start):
      // IF NOT EXISTS does not stop the second CREATE from colliding in the catalogue, and the
      // index the first made is the one wanted.
      if (!isUniqueViolation(error)) throw error;
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** The quoted physical tables behind an organisation's table names, each once. */
  private async physicalTables(orgId: string, tables: readonly string[]): Promise<string[]> {
    checkOrg(orgId);
    const physical: string[] = [];
    for (const name of new Set(tables)) {
      physical.push(
        quoteIdentifier(physicalTableName((await this.catalogue.require(orgId, name)).id)),
      );
    }
    return physical;
  }
}

/** The prefetch checked against the catalogue as read (also by postgres-partition-reader.ts). */
export function checkPrefetch(tables: readonly StoredTable[], prefetch: unknown): PrefetchSpec[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  return validatePrefetch(prefetch, {
    find: (name) => byName.get(name),
    unknown: (name) => unknownTableError(name, tables),
  });
}

/** What the sql compiler may see of the organisation, read once: it asks synchronously. */
async function sqlScope(db: SqlExecutor, orgId: string): Promise<SqlScope> {
  const tables = await new PostgresCatalogue(db).list(orgId);
  const lookups = await db.all<{ id: number; name: string }>(
    'SELECT id, name FROM data_lookup_tables WHERE org_id = ? ORDER BY name COLLATE "C"',
    [orgId],
  );
  return {
    table: (name) => tables.find((t) => t.name === name),
    tableNames: () => tables.map((t) => t.name),
    lookupId: (name) => {
      const found = lookups.find((l) => l.name === name);
      return found && Number(found.id);
    },
    lookupNames: () => lookups.map((l) => l.name),
  };
}

async function storedProgress(
  db: SqlExecutor,
  orgId: string,
  importId: string,
): Promise<ImportPosition | undefined> {
  const row = await db.get<{ line: number; rows: number; finished: number }>(
    'SELECT line, rows, finished FROM data_import_progress WHERE import_id = ? AND org_id = ?',
    [importId, orgId],
  );
  return (
    row && { line: Number(row.line), rows: Number(row.rows), finished: Number(row.finished) === 1 }
  );
}

/** Call inside the transaction that stores the rows up to `position.line` (import-progress.ts). */
async function recordProgress(
  db: SqlExecutor,
  orgId: string,
  table: string,
  importId: string,
  position: ImportPosition,
): Promise<void> {
  await db.run(
    `INSERT INTO data_import_progress (import_id, org_id, table_name, line, rows, finished, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (org_id, import_id) DO UPDATE SET table_name = excluded.table_name, line = excluded.line,
       rows = excluded.rows, finished = excluded.finished, updated_at = excluded.updated_at`,
    [importId, orgId, table, position.line, position.rows, position.finished ? 1 : 0, Date.now()],
  );
}
