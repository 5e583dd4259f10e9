// The data store's catalogue tables, as steps of the one migration runner (component `cloak-data`).
import {
  runMigrations,
  type MigrationStep,
  type SqlDb,
  type SqlExecutor,
} from '../../store/index.ts';

/** The runner's name for this folder's tables in `schema_migrations`. */
export const DATA_COMPONENT = 'cloak-data';

/**
 * Every name starts with `data_`, and physical user tables are `data_rows_<id>`: nothing here can
 * collide with the air's tables (organisations, analysts, tasks, ...) when both share one
 * PostgreSQL database. Steps only ever get appended.
 *
 * PostgreSQL differs where SQLite-only features were used: names are unique ignoring case through
 * a `lower(name)` index (no `COLLATE NOCASE`), and the arrival counter is a SEQUENCE, not a row
 * every upload would lock (postgres-insert.ts says why the ordering still holds).
 */
export const DATA_MIGRATIONS: readonly MigrationStep[] = [
  {
    version: 1,
    name: 'catalogue',
    up: {
      sqlite: `
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
      postgres: `
        CREATE TABLE data_tables (
          id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          org_id TEXT NOT NULL,
          name TEXT NOT NULL,
          columns TEXT NOT NULL,
          version BIGINT NOT NULL,
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX data_tables_org_name ON data_tables (org_id, lower(name));
        CREATE SEQUENCE data_sequence;
        CREATE TABLE data_lookup_tables (
          id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          org_id TEXT NOT NULL,
          name TEXT NOT NULL,
          updated_at BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX data_lookup_tables_org_name ON data_lookup_tables (org_id, lower(name));
        CREATE TABLE data_lookup_entries (
          lookup_id BIGINT NOT NULL REFERENCES data_lookup_tables (id) ON DELETE CASCADE,
          key TEXT NOT NULL,
          value TEXT NOT NULL,
          PRIMARY KEY (lookup_id, key)
        );
      `,
    },
  },
  {
    // import-progress.ts: the last line each file import stored, written with its rows.
    version: 2,
    name: 'import-progress',
    up: {
      sqlite: `
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
      postgres: `
        CREATE TABLE data_import_progress (
          org_id TEXT NOT NULL,
          import_id TEXT NOT NULL,
          table_name TEXT NOT NULL,
          line BIGINT NOT NULL,
          rows BIGINT NOT NULL,
          finished INTEGER NOT NULL,
          updated_at BIGINT NOT NULL,
          PRIMARY KEY (org_id, import_id)
        );
      `,
    },
  },
  {
    // The old record, adopted as legacyVersion below, has served its purpose.
    version: 3,
    name: 'drop-old-migration-record',
    up: 'DROP TABLE IF EXISTS data_schema_migrations',
  },
];

/**
 * Applies pending steps. A cloak.db made before the one runner recorded its steps in
 * `data_schema_migrations`; the highest version there counts as applied, so nothing runs twice.
 */
export async function migrateDataStore(db: SqlDb): Promise<void> {
  await runMigrations(db, DATA_COMPONENT, DATA_MIGRATIONS, { legacyVersion });
}

async function legacyVersion(tx: SqlExecutor): Promise<number> {
  if (tx.dialect !== 'sqlite') return 0;
  const table = await tx.get(
    "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'data_schema_migrations'",
  );
  if (!table) return 0;
  const row = await tx.get<{ v: number | null }>(
    'SELECT max(version) AS v FROM data_schema_migrations',
  );
  return row?.v ?? 0;
}
