// What a worker reads of the cloak's PostgreSQL data store: one partition's users with their rows, and lookup tables; it writes nothing.
import type { PrefetchSpec } from '../../shared/index.ts';
import { openPostgresDb, type SqlDb } from '../../store/index.ts';
import type { LookupReader } from './data-store.ts';
import { quoteIdentifier } from './names.ts';
import { PostgresCatalogue } from './postgres-catalogue.ts';
import { checkPrefetch } from './postgres-data-store.ts';
import { PostgresLookups } from './postgres-lookups.ts';
import { readInPostgresSnapshot } from './postgres-snapshot.ts';
import { buildStreamQuery } from './prefetch-sql.ts';
import { DATA_COMPONENT, DATA_MIGRATIONS } from './schema.ts';
import { POSTGRES_FLAVOR } from './sql-dialect.ts';
import { physicalTableName, type StoredTable } from './table-catalogue.ts';
import { checkOrg } from './table-definitions.ts';
import { groupByUserAsync, type UserData } from './user-stream.ts';

/** Lookup reads and the schema check; streams open a connection of their own (postgres-snapshot.ts). */
const POOL_CONNECTIONS = 2;

/**
 * Not a CloakDataStore: a worker (src/cloak/distributed) only reads, so opening one neither
 * migrates nor creates anything. A worker older or newer than the server must not change the
 * schema under it; the server that owns the store migrates it, and `open` refuses a store it has
 * not prepared yet.
 */
export class PostgresPartitionReader {
  private readonly lookups: PostgresLookups;

  private constructor(
    private readonly db: SqlDb,
    private readonly url: string,
  ) {
    this.lookups = new PostgresLookups(db);
  }

  /**
   * Rejects when the database cannot be reached or holds no data tables of the version this code
   * reads. A newer schema is accepted: steps are only ever appended (schema.ts), and the server
   * that migrated it is the one an operator upgrades first. Error messages are pg's or the schema
   * check's; neither holds the URL's password.
   */
  static async open(url: string): Promise<PostgresPartitionReader> {
    const db = openPostgresDb(url, { maxConnections: POOL_CONNECTIONS });
    try {
      await checkSchema(db);
    } catch (error) {
      await db.close();
      throw error;
    }
    return new PostgresPartitionReader(db, url);
  }

  /**
   * The users of `prefetch`'s tables whom `keep` accepts, each with their selected rows at `now`,
   * in user-id order, all read in one REPEATABLE READ snapshot (as streamUsers). `keep` sees user
   * ids only, so a caller partitions by whatever it likes (a keyed hash) without the database
   * learning the key.
   *
   * Cost per call: one pass over every distinct user id of the tables (the primary keys
   * `(ac_user_id, ac_seq)`, read through a cursor, one `keep` call per user), then the rows of
   * the kept users only, matched against their ids sent as one parameter. A run of n partitions
   * lists every user id n times and reads every row once; the listing is ids only, a few dozen
   * bytes a user, against rows that usually weigh far more. Memory: the kept ids and one page.
   */
  async *streamUsersWhere(
    orgId: string,
    prefetch: PrefetchSpec[],
    now: number,
    keep: (userId: string) => boolean,
  ): AsyncGenerator<UserData, void, undefined> {
    checkOrg(orgId);
    yield* readInPostgresSnapshot(this.url, async function* (tx, rows) {
      // Validated inside the snapshot, as streamUsers does: the SQL matches the rows read.
      const all = await new PostgresCatalogue(tx).list(orgId);
      const specs = checkPrefetch(all, prefetch);
      const tables = specs.map((spec) => all.find((t) => t.name === spec.table)!);
      const kept: string[] = [];
      for await (const [userId] of rows(listUsers(tables), [])) {
        if (keep(userId as string)) kept.push(userId as string);
      }
      if (kept.length === 0) return;
      const query = buildStreamQuery(specs, tables, now, kept, POSTGRES_FLAVOR);
      yield* groupByUserAsync(rows(query.sql, query.params), specs, tables, query.offsets);
    });
  }

  /** The organisation's lookup tables read once, as an in-process run on PostgreSQL reads them. */
  async lookupReader(orgId: string): Promise<LookupReader> {
    checkOrg(orgId);
    return this.lookups.reader(orgId);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/**
 * Every user with a row in one of the tables, each once: DISTINCT within a table (a user has
 * many rows there; the primary key's order lets PostgreSQL skip them), UNION across tables.
 */
function listUsers(tables: readonly StoredTable[]): string {
  const physical = [...new Set(tables.map((t) => physicalTableName(t.id)))];
  return physical
    .map((name) => `SELECT DISTINCT ac_user_id FROM ${quoteIdentifier(name)}`)
    .join(' UNION ');
}

/** The data tables exist at the version this code reads (read-only: nothing is created). */
async function checkSchema(db: SqlDb): Promise<void> {
  const expected = DATA_MIGRATIONS[DATA_MIGRATIONS.length - 1]!.version;
  const present = await db.get<{ name: string | null }>(
    "SELECT CAST(to_regclass('schema_migrations') AS text) AS name",
  );
  const row = present?.name
    ? await db.get<{ version: number | null }>(
        'SELECT max(version) AS version FROM schema_migrations WHERE component = ?',
        [DATA_COMPONENT],
      )
    : undefined;
  const version = Number(row?.version ?? 0);
  if (version === 0) {
    throw new Error(
      'it holds no data tables yet: start the server with this store (--store) once, which creates them; a worker creates nothing',
    );
  }
  if (version < expected) {
    throw new Error(
      `its data tables are at schema version ${version} and this worker reads version ${expected}: start the upgraded server on it first, which migrates them`,
    );
  }
}
