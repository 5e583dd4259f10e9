// Test support: a fresh PostgreSQL database per test file, dropped afterwards, and both dialects to run contract suites over.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPostgresDb, openSqliteDb, type SqlDb } from './sql-db.ts';

/** The server tests use (CI starts PostgreSQL on 127.0.0.1:5432 with trust authentication). */
export const TEST_POSTGRES_SERVER =
  process.env.OPENCLOAK_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';

/** A new, empty database on the test server; `drop` removes it (and ends its connections). */
export async function createTestDatabase(
  prefix = 'oc_test',
  /** An ICU locale (such as 'en') for the database's default collation, as many servers have. */
  icuLocale?: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${TEST_POSTGRES_SERVER}/postgres` });
  await admin.connect();
  try {
    const collation = icuLocale
      ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${icuLocale.replace(/[^\w-]/g, '')}'`
      : '';
    await admin.query(`CREATE DATABASE "${name}"${collation}`);
  } finally {
    await admin.end();
  }
  return {
    url: `${TEST_POSTGRES_SERVER}/${name}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: `${TEST_POSTGRES_SERVER}/postgres` });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** An empty database of one dialect, opened, with its own cleanup. */
export interface TestDb {
  db: SqlDb;
  /** What the database's address is: a SQLite file or a PostgreSQL URL. */
  address: string;
  cleanup: () => Promise<void>;
}

/**
 * Both implementations behind the seam, for `describe.each(TEST_DIALECTS)`: a contract suite runs
 * once per dialect, so the stores behave the same on either.
 */
export const TEST_DIALECTS: ReadonlyArray<{
  dialect: 'sqlite' | 'postgres';
  open: () => Promise<TestDb>;
}> = [
  {
    dialect: 'sqlite',
    open: async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'oc-sql-'));
      const address = path.join(dir, 'test.db');
      const db = openSqliteDb(address);
      return {
        db,
        address,
        cleanup: async () => {
          await db.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    dialect: 'postgres',
    open: async () => {
      const { url, drop } = await createTestDatabase();
      const db = openPostgresDb(url);
      return {
        db,
        address: url,
        cleanup: async () => {
          await db.close();
          await drop();
        },
      };
    },
  },
];
