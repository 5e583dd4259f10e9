// A PostgreSQL user stream whose connection the server cuts (a restart): the stream fails with the error, and the process lives on.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_POSTGRES_SERVER } from '../../store/test-support.ts';
import type { CloakDataStore } from './data-store.ts';
import { openDataStore } from './open-data-store.ts';
import { parseSqlTask } from '../sql-task/parse-sql-task.ts';

/** More users than one page of the snapshot's cursor: the stream waits between two FETCHes. */
const USERS = 2_500;

describe('a PostgreSQL user stream cut off by the server', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let data: CloakDataStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    data = await openDataStore(database.url);
    await data.createTable('org', { name: 't', columns: [{ name: 'v', type: 'integer' }] });
    const payload: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) payload[`u${u}`] = { t: [{ v: u }] };
    await data.insert('org', payload);
  });

  afterAll(async () => {
    await data?.close();
    await database?.drop();
  });

  it('rejects its next read instead of crashing on the idle connection', async () => {
    const stream = data.streamUsers('org', [{ table: 't' }])[Symbol.asyncIterator]();
    expect((await stream.next()).done).toBe(false);
    // Idle in its snapshot between two pages, as a restart finds it.
    const admin = new pg.Client({ connectionString: `${TEST_POSTGRES_SERVER}/postgres` });
    await admin.connect();
    try {
      const name = new URL(database.url).pathname.slice(1);
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
    } finally {
      await admin.end();
    }
    // The client hears of it (an 'error' event without a listener would end the process here).
    await sleep(200);
    const rest = (async () => {
      for (let next = await stream.next(); !next.done; next = await stream.next());
    })();
    await expect(rest).rejects.toThrow(/terminat|connection/i);
    // The store's pool takes new connections: the next stream reads every user.
    let users = 0;
    for await (const _ of data.streamUsers('org', [{ table: 't' }])) users++;
    expect(users).toBe(USERS);
  });

  it('ends a stream left midway while its next page is already asked for', async () => {
    const query = parseSqlTask('SELECT v, count(DISTINCT user) FROM t GROUP BY v');
    const limits = { maxProperties: 100, maxTextLength: 100 };
    const stream = data.streamSqlGroups('org', query, limits)[Symbol.asyncIterator]();
    // The first batch comes from the first page; the second page is on its way meanwhile.
    expect((await stream.next()).done).toBe(false);
    await stream.return?.(undefined);
    // The snapshot's connection is gone (its page's rejection handled, nothing unhandled).
    const admin = new pg.Client({ connectionString: `${TEST_POSTGRES_SERVER}/postgres` });
    await admin.connect();
    try {
      const name = new URL(database.url).pathname.slice(1);
      const inTransaction = async () =>
        (
          await admin.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'",
            [name],
          )
        ).rows[0].n as number;
      for (let i = 0; i < 50 && (await inTransaction()) > 0; i++) await sleep(20);
      expect(await inTransaction()).toBe(0);
    } finally {
      await admin.end();
    }
    let users = 0;
    for await (const batch of data.streamSqlGroups('org', query, limits)) users += batch.length;
    expect(users).toBe(USERS);
  });
});
