// The storage seam's lowest layer: one async SQL interface over SQLite (embedded) and PostgreSQL (server mode).
import type Database from 'better-sqlite3';
import pg from 'pg';
import { openDatabase, statementCache } from './sqlite.ts';

export type Dialect = 'sqlite' | 'postgres';

/** What a statement may bind. Booleans are stored as 0/1 in SQLite, as booleans in PostgreSQL. */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array;

export interface SqlRunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

/**
 * Statements in either dialect. SQL text uses `?` placeholders in both: the PostgreSQL side numbers
 * them, so a store writes each statement once unless the dialects really differ.
 */
export interface SqlExecutor {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<SqlRunResult>;
  /** Several statements without parameters (schema steps). */
  exec(sql: string): Promise<void>;
}

export interface SqlDb extends SqlExecutor {
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. Use the
   * `tx` it gets for every statement of the transaction; on SQLite, statements through the outer
   * handle wait until the transaction ends, so no other caller's write slips into it.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A SQLite database behind the async interface, with the synchronous handle for hot paths. */
export interface SqliteSqlDb extends SqlDb {
  readonly dialect: 'sqlite';
  readonly raw: Database.Database;
  /**
   * Runs `fn`, which uses `raw` directly, when no transaction of this wrapper is open, and keeps
   * new ones out until it ends. Synchronous writes on `raw` (the data store's uploads) must go
   * through here: run while a transaction awaits, they would join it, and a rolled-back budget
   * preview would take an acknowledged upload with it.
   */
  exclusive<T>(fn: () => T | Promise<T>): Promise<T>;
}

export function openSqliteDb(file: string): SqliteSqlDb {
  return sqliteSqlDb(openDatabase(file));
}

/** Wraps an open better-sqlite3 handle (which stays the caller's to use for synchronous paths). */
export function sqliteSqlDb(raw: Database.Database): SqliteSqlDb {
  const statement = statementCache(raw);
  const bind = (params: readonly SqlValue[]) =>
    params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
  const direct: SqlExecutor = {
    dialect: 'sqlite',
    all: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      statement(sql).all(...bind(params)) as T[],
    get: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      statement(sql).get(...bind(params)) as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) => ({
      changes: statement(sql).run(...bind(params)).changes,
    }),
    exec: async (sql: string) => {
      raw.exec(sql);
    },
  };
  // One connection: while a transaction awaits, other callers' statements must not interleave.
  // The check must sit in the same synchronous step as what it guards: awaiting a helper that
  // checked would resume a microtask later, after another caller may have begun a transaction.
  let open: Promise<void> | undefined;
  /** Holds the connection for `fn`: callers that come meanwhile wait until it has ended. */
  const exclusive = async <T>(fn: () => T | Promise<T>): Promise<T> => {
    while (open) await open;
    let release!: () => void;
    open = new Promise((resolve) => (release = resolve));
    try {
      return await fn();
    } finally {
      open = undefined;
      release();
    }
  };
  return {
    dialect: 'sqlite',
    raw,
    async all(sql, params) {
      while (open) await open;
      return direct.all(sql, params);
    },
    async get(sql, params) {
      while (open) await open;
      return direct.get(sql, params);
    },
    async run(sql, params) {
      while (open) await open;
      return direct.run(sql, params);
    },
    async exec(sql) {
      while (open) await open;
      return direct.exec(sql);
    },
    exclusive,
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      // Never BEGIN inside the caller's synchronous step: code that goes on to use the raw handle
      // synchronously (or closes it) before its first await would otherwise run inside this
      // transaction. exclusive then waits for any open one, in the same step as the BEGIN.
      await undefined;
      return exclusive(async () => {
        // IMMEDIATE takes the write lock now, so a second process cannot make this one fail later.
        raw.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(direct);
          raw.exec('COMMIT');
          return result;
        } catch (error) {
          if (raw.inTransaction) raw.exec('ROLLBACK');
          throw error;
        }
      });
    },
    async close() {
      while (open) await open;
      raw.close();
    },
  };
}

/** Rewrites `?` placeholders as `$1, $2, ...`, leaving quoted strings and identifiers alone. */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === '?') {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * int8 (counts, sums, sequences) as numbers: every count the stores keep is far below 2^53. For
 * every PostgreSQL connection of the stores, the pool's and those opened alone (a snapshot).
 */
const INT8_OID = 20;
export const POSTGRES_TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  /** Connections the pool may open (default 10). */
  maxConnections?: number;
}

export function openPostgresDb(url: string, options: PostgresOptions = {}): SqlDb {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    types: POSTGRES_TYPES,
  });
  // An idle client that loses its server (a PostgreSQL restart) must not crash the process: the
  // next query gets a fresh connection or a clear error.
  pool.on('error', () => undefined);
  const executor = (client: pg.Pool | pg.PoolClient): SqlExecutor => ({
    dialect: 'postgres',
    all: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      (await client.query(numberPlaceholders(sql), params as unknown[])).rows as T[],
    get: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      (await client.query(numberPlaceholders(sql), params as unknown[])).rows[0] as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) => ({
      changes: (await client.query(numberPlaceholders(sql), params as unknown[])).rowCount ?? 0,
    }),
    exec: async (sql: string) => {
      await client.query(sql);
    },
  });
  return {
    ...executor(pool),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A checked-out client has lost the pool's error listener: one whose server goes away while
      // the transaction waits between statements (a streaming pass's lock, PostgreSQL restarting)
      // would throw 'error' at the process. Heard here, its next statement fails instead (the
      // transaction is gone with its session).
      let broken: Error | undefined;
      const hear = (error: Error) => void (broken ??= error);
      client.on('error', hear);
      try {
        await client.query('BEGIN');
        try {
          const result = await fn(executor(client));
          await client.query('COMMIT');
          return result;
        } catch (error) {
          // The session's 'error' event may still be on its way: a client whose transaction
          // failed is not trusted again, but ended (release with an error) and replaced.
          broken ??= error instanceof Error ? error : new Error(String(error));
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      } finally {
        // A sound client goes back without the listener (each transaction would add one); a
        // broken one keeps it until the pool has ended it.
        if (broken === undefined) client.off('error', hear);
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/** Opens the database an address names: `postgres://...` or `postgresql://...`, else a SQLite file. */
export function openSqlDb(address: string): SqlDb {
  return /^postgres(ql)?:\/\//.test(address) ? openPostgresDb(address) : openSqliteDb(address);
}
