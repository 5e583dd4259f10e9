// Caches values read from a database for as long as the database has not changed, from any process.
import type { SqlDb, SqliteSqlDb } from './sql-db.ts';
import type { Db } from './sqlite.ts';

/** Entries beyond this clear the cache: hot values come back on the next read. */
const MAX_ENTRIES = 10_000;

/**
 * A value is served from memory only while the database is exactly as it was when the value was
 * read. On SQLite the stamp combines `total_changes()` (every row this connection inserts, updates
 * or deletes) with `data_version` (bumped by every commit of another connection, such as the CLI
 * revoking a key while the server runs), so no code path can forget to invalidate: any write
 * anywhere drops every entry. Reading the stamp costs one tiny synchronous statement instead of
 * the queries it saves.
 *
 * On PostgreSQL nothing is cached, on purpose. No stamp there is both cheap and cross-server: a
 * change counter costs a round trip per read, the same as the single-row index lookups it would
 * save, and LISTEN/NOTIFY misses what changes while a connection reconnects, which would let a
 * revoked key through. A revocation must take effect at once on every server, so each read goes
 * to the database.
 */
export class ReadCache {
  readonly #stampQuery: (() => string) | undefined;
  #stamp = '';
  readonly #entries = new Map<string, unknown>();

  constructor(db: SqlDb | Db) {
    // A better-sqlite3 handle has no `dialect`; a SqlDb over SQLite lends its handle.
    const raw = !('dialect' in db)
      ? db
      : db.dialect === 'sqlite'
        ? (db as SqliteSqlDb).raw
        : undefined;
    if (raw === undefined) return;
    const query = raw
      .prepare('SELECT total_changes() AS t, (SELECT data_version FROM pragma_data_version) AS v')
      .raw();
    this.#stampQuery = () => (query.get() as unknown[]).join(':');
  }

  /** Whether values are kept at all (SQLite) or every `get` reads (PostgreSQL). */
  get caching(): boolean {
    return this.#stampQuery !== undefined;
  }

  async get<T>(key: string, read: () => T | Promise<T>): Promise<T> {
    if (!this.#stampQuery) return read();
    const stamp = this.#stampQuery();
    if (stamp !== this.#stamp || this.#entries.size >= MAX_ENTRIES) {
      this.#entries.clear();
      this.#stamp = stamp;
    }
    if (this.#entries.has(key)) return this.#entries.get(key) as T;
    const value = await read();
    // Shared by every caller that asks for the key: frozen, so none can change it for the others.
    if (typeof value === 'object' && value !== null) Object.freeze(value);
    // A write while `read` awaited may have changed the stamp: the value then belongs to no stamp
    // the cache can vouch for, and is handed out once without being kept.
    if (this.#stampQuery() === stamp && this.#stamp === stamp) this.#entries.set(key, value);
    return value;
  }
}
