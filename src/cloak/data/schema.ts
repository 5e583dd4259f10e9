// The data store's own catalogue tables in cloak.db and the migrations that create them.
import type Database from 'better-sqlite3';

/**
 * Versioned in a table of our own rather than in `user_version`, which other cloak parts sharing
 * cloak.db may use. Steps only ever get appended.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE data_tables (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id TEXT NOT NULL,
        name TEXT NOT NULL,
        columns TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX data_tables_org_name ON data_tables (org_id, name COLLATE NOCASE);
      CREATE TABLE data_sequence (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        next_seq INTEGER NOT NULL
      ) STRICT;
      INSERT INTO data_sequence (id, next_seq) VALUES (1, 1);
      CREATE TABLE data_lookup_tables (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id TEXT NOT NULL,
        name TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE UNIQUE INDEX data_lookup_tables_org_name ON data_lookup_tables (org_id, name COLLATE NOCASE);
      CREATE TABLE data_lookup_entries (
        lookup_id INTEGER NOT NULL REFERENCES data_lookup_tables (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (lookup_id, key)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    // import-progress.ts: the last line each file import stored, written with its rows.
    version: 2,
    sql: `
      CREATE TABLE data_import_progress (
        org_id TEXT NOT NULL,
        import_id TEXT NOT NULL,
        table_name TEXT NOT NULL,
        line INTEGER NOT NULL,
        rows INTEGER NOT NULL,
        finished INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (org_id, import_id)
      ) STRICT;
    `,
  },
];

/** Durability settings, then any pending migration; safe to run on every start and from two processes. */
export function prepareDatabase(db: Database.Database): void {
  if (!db.memory) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.exec(
    'CREATE TABLE IF NOT EXISTS data_schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT',
  );
  const applied = db.prepare('SELECT 1 FROM data_schema_migrations WHERE version = ?');
  const record = db.prepare(
    'INSERT INTO data_schema_migrations (version, applied_at) VALUES (?, ?)',
  );
  for (const step of MIGRATIONS) {
    // IMMEDIATE takes the write lock before the check, so a second process cannot apply a step twice.
    db.transaction(() => {
      if (applied.get(step.version)) return;
      db.exec(step.sql);
      record.run(step.version, Date.now());
    }).immediate();
  }
}
