// A PostgreSQL transaction whose session the server ends (a restart): it rolls back with the error, and the process lives on.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresDb, type SqlDb } from './sql-db.ts';
import { createTestDatabase, TEST_POSTGRES_SERVER } from './test-support.ts';

/** Ends every session of the database but the caller's, as a restart does. */
async function terminateSessions(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: `${TEST_POSTGRES_SERVER}/postgres` });
  await admin.connect();
  try {
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [new URL(url).pathname.slice(1)],
    );
  } finally {
    await admin.end();
  }
}

describe('a PostgreSQL transaction cut off by the server', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: SqlDb;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = openPostgresDb(database.url);
    await db.exec('CREATE TABLE t (v integer)');
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('rejects, keeps nothing of it, and the next call gets a new connection', async () => {
    const cut = db.transaction(async (tx) => {
      await tx.run('INSERT INTO t (v) VALUES (1)');
      // Between two statements (the caller works), the session ends.
      await terminateSessions(database.url);
      // The client hears of it first (an 'error' event without a listener would end the process).
      await sleep(200);
      await tx.run('INSERT INTO t (v) VALUES (2)');
    });
    await expect(cut).rejects.toThrow(/terminat|connection|not queryable/i);
    expect(await db.all('SELECT v FROM t')).toEqual([]);
    await db.transaction((tx) => tx.run('INSERT INTO t (v) VALUES (3)'));
    expect(await db.all('SELECT v FROM t')).toEqual([{ v: 3 }]);
  });
});
