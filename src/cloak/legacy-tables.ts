// Adopting the cloak's bookkeeping tables that releases before the migration runner made in cloak.db.
import type { SqlExecutor } from '../store/index.ts';

/*
 * Before the runner, each store ran `CREATE TABLE IF NOT EXISTS` in its constructor and added
 * later columns when `PRAGMA table_info` lacked them. Such a cloak.db has the tables and no
 * `schema_migrations` rows: its component counts as at version 1 (`legacyVersion`), and a second
 * step, which every database runs once, brings whatever an older release left behind up to
 * version 1's shape. Only SQLite has such files: PostgreSQL came with the runner.
 */

/** Whether a table exists, in either dialect. */
export async function tableExists(tx: SqlExecutor, table: string): Promise<boolean> {
  const row =
    tx.dialect === 'sqlite'
      ? await tx.get("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?", [
          table,
        ])
      : await tx.get(
          'SELECT 1 AS found FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?',
          [table],
        );
  return row !== undefined;
}

/** Version 1 when an older release made any of these tables, else 0: for `legacyVersion`. */
export function legacyWhenAnyOf(...tables: string[]): (tx: SqlExecutor) => Promise<number> {
  return async (tx) => {
    for (const table of tables) if (await tableExists(tx, table)) return 1;
    return 0;
  };
}

/**
 * Adds the columns an older release's SQLite table lacks (SQLite only: a PostgreSQL table always
 * has them) and returns the names it added, for steps that must fill them.
 */
export async function addMissingColumns(
  tx: SqlExecutor,
  columns: ReadonlyArray<readonly [table: string, column: string, definition: string]>,
): Promise<Set<string>> {
  const added = new Set<string>();
  if (tx.dialect !== 'sqlite') return added;
  for (const [table, column, definition] of columns) {
    const present = await tx.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', [
      table,
    ]);
    if (present.some((c) => c.name === column)) continue;
    await tx.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
    added.add(`${table}.${column}`);
  }
  return added;
}
