// Opens a SQLite database with the durability settings OpenCloak relies on, and applies migrations.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export type Db = Database.Database;

/** One schema step. Steps run in order, once each, inside a transaction. */
export interface Migration {
  version: number;
  sql: string;
}

/**
 * WAL lets readers (the CLI, a second connection) work while the server writes; synchronous=FULL
 * makes every acknowledged transaction survive a crash of the process or the machine.
 */
export function openDatabase(file: string): Db {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Applies the migrations newer than the database's `user_version`, recording progress there. */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const pending = migrations
    .filter((m) => m.version > current)
    .sort((a, b) => a.version - b.version);
  for (const step of pending) {
    db.transaction(() => {
      db.exec(step.sql);
      db.pragma(`user_version = ${Number(step.version)}`);
    })();
  }
}

/**
 * Prepares each SQL text once per connection. Preparing costs more than running a small query,
 * and the stores run the same few statements on every request.
 */
export function statementCache(db: Db): (sql: string) => Database.Statement {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      cache.set(sql, statement);
    }
    return statement;
  };
}

/**
 * Says what data the database holds, e.g. "rows in data_tables of cloak.db", or undefined for a
 * database with nothing but its schema: how a start tells a fresh installation from a restored one.
 * `bookkeeping` names tables that hold rows from the first open on (migrations, counters).
 */
export function describeData(
  db: Db,
  label: string,
  bookkeeping: readonly string[] = [],
): string | undefined {
  const tables = db
    .prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .pluck()
    .all() as string[];
  for (const table of tables) {
    if (bookkeeping.includes(table)) continue;
    const quoted = `"${table.replaceAll('"', '""')}"`;
    // One row is enough to know, and stays fast on tables of millions.
    if (db.prepare(`SELECT 1 FROM ${quoted} LIMIT 1`).get()) return `rows in ${table} of ${label}`;
  }
  return undefined;
}
