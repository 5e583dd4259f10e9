// Caches values read from a database for as long as the database has not changed, from any process.
import type { Db } from './sqlite.ts';

/** Entries beyond this clear the cache: hot values come back on the next read. */
const MAX_ENTRIES = 10_000;

/**
 * A value is served from memory only while the database is exactly as it was when the value was
 * read. The stamp combines `total_changes()` (every row this connection inserts, updates or
 * deletes) with `data_version` (bumped by every commit of another connection, such as the CLI
 * revoking a key while the server runs), so no code path can forget to invalidate: any write
 * anywhere drops every entry. Reading the stamp costs one tiny statement instead of the queries
 * it saves.
 */
export class ReadCache {
  readonly #stampQuery;
  #stamp = '';
  readonly #entries = new Map<string, unknown>();

  constructor(db: Db) {
    this.#stampQuery = db
      .prepare('SELECT total_changes() AS t, (SELECT data_version FROM pragma_data_version) AS v')
      .raw();
  }

  get<T>(key: string, read: () => T): T {
    const stamp = (this.#stampQuery.get() as unknown[]).join(':');
    if (stamp !== this.#stamp || this.#entries.size >= MAX_ENTRIES) {
      this.#entries.clear();
      this.#stamp = stamp;
    }
    if (this.#entries.has(key)) return this.#entries.get(key) as T;
    const value = read();
    // Shared by every caller that asks for the key: frozen, so none can change it for the others.
    if (typeof value === 'object' && value !== null) Object.freeze(value);
    this.#entries.set(key, value);
    return value;
  }
}
