// The sql groups' worker thread gives exactly what the in-thread read gives, falls back on a stale catalogue, and ends when the run stops reading.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSqlTask } from '../sql-task/parse-sql-task.ts';
import type { SqlUserGroups } from './sql-groups.ts';
import { groupThreads, staleThreadReads, type ThreadOptions } from './sql-groups-thread.ts';
import { openTestStore, type TestStore } from './test-support.ts';

const ORG = 'org';
const USERS = 6_500;
const LIMITS = { maxProperties: 10_000, maxTextLength: 1000 };
const CITIES = ['Berlin', 'Oslo', 'Rome', 'Lima', 'Kyiv'];

let t: TestStore;
afterAll(() => t?.close());
beforeAll(async () => {
  t = await openTestStore();
  t.store.createTable(ORG, {
    name: 'visits',
    columns: [
      { name: 'city', type: 'varchar(16)' },
      { name: 'age', type: 'integer' },
      { name: 'member', type: 'boolean' },
      { name: 'amount', type: 'double' },
    ],
  });
  t.store.createTable(ORG, { name: 'buys', columns: [{ name: 'item', type: 'text' }] });
  t.store.setLookupTable(ORG, 'regions', [
    ['Berlin', 'north'],
    ['Oslo', 'north'],
    ['Rome', 'south'],
  ]);
  const payload: Record<string, unknown> = {};
  for (let u = 0; u < USERS; u++) {
    payload[`user-${String(u).padStart(5, '0')}`] = {
      visits: Array.from({ length: 1 + (u % 4) }, (_, i) => ({
        city: u % 50 === 7 ? null : CITIES[(u + i * (u % 3)) % CITIES.length],
        age: 18 + (u % 60),
        member: u % 3 === 0,
        amount: ((u * 37 + i * 11) % 300) + 0.5,
      })),
      ...(u % 5 === 0 ? { buys: [{ item: `item-${u % 7}` }, { item: 'pen' }] } : {}),
    };
  }
  t.store.insert(ORG, payload);
}, 60_000);

async function read(code: string, options: ThreadOptions, limits = LIMITS) {
  const users: SqlUserGroups[] = [];
  const query = parseSqlTask(code);
  for await (const batch of t.store.streamSqlGroupsThreaded(
    ORG,
    query,
    limits,
    undefined,
    options,
  )) {
    users.push(...batch);
  }
  return users;
}

/** Threads in the middle of a read. */
function busy(): number {
  const { live, idle } = groupThreads();
  return live - idle;
}

const QUERIES = [
  'SELECT city, count(DISTINCT user) FROM visits GROUP BY city',
  `SELECT city, floor(age / 10) * 10 AS bracket, member, count(DISTINCT user) FROM visits
   GROUP BY city, bracket, member`,
  'SELECT count(DISTINCT user) AS big FROM visits WHERE amount > 150 AND NOT member',
  `SELECT lookup('regions', city) AS region, count(DISTINCT user) FROM visits GROUP BY region`,
  'SELECT item, count(DISTINCT user) FROM visits JOIN buys USING (user) GROUP BY item',
];

describe('reading a sql task’s groups in a worker thread', () => {
  it.each(QUERIES)(
    'gives the same users, groups and order as the main thread: %s',
    async (code) => {
      const here = await read(code, { minRows: Infinity });
      const there = await read(code, { minRows: 0 });
      expect(here.length).toBeGreaterThan(1000);
      expect(there).toEqual(here);
    },
  );

  it("keeps report_property's limits, failing the same users with the same messages", async () => {
    const small = { maxProperties: 2, maxTextLength: 5 };
    const code = 'SELECT city, count(DISTINCT user) FROM visits GROUP BY city';
    const here = await read(code, { minRows: Infinity }, small);
    const there = await read(code, { minRows: 0 }, small);
    expect(here.filter((u) => !u.ok).length).toBeGreaterThan(100);
    expect(there).toEqual(here);
  });

  it('reads on the main thread when the catalogue the thread sees is not the compiled one', async () => {
    const code = 'SELECT city, count(DISTINCT user) FROM visits GROUP BY city';
    const before = staleThreadReads();
    const here = await read(code, { minRows: Infinity });
    const fallen = await read(code, { minRows: 0, expectedDigest: '["not the catalogue"]' });
    expect(staleThreadReads()).toBe(before + 1);
    expect(fallen).toEqual(here);
  });

  it('ends the thread when the run stops reading midway, even while it waits to send', async () => {
    const query = parseSqlTask('SELECT city, count(DISTINCT user) FROM visits GROUP BY city');
    const idleBefore = groupThreads().idle;
    const batches = t.store.streamSqlGroupsThreaded(ORG, query, LIMITS, undefined, { minRows: 0 });
    const first = await batches.next();
    expect(first.done).toBe(false);
    expect(busy()).toBe(1);
    // Seven batches of users, four sent ahead at most: the thread is blocked on its credits now.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await batches.return(undefined);
    const deadline = Date.now() + 10_000;
    while (busy() > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Ended, not kept for the next read: an idle thread it came from is gone too.
    expect(busy()).toBe(0);
    expect(groupThreads().idle).toBe(Math.max(0, idleBefore - 1));
  });

  it('keeps a thread that read to the end for the next read', async () => {
    const code = 'SELECT city, count(DISTINCT user) FROM visits GROUP BY city';
    await read(code, { minRows: 0 });
    const after = groupThreads();
    expect(after.idle).toBeGreaterThanOrEqual(1);
    await read(code, { minRows: 0 });
    expect(groupThreads()).toEqual(after);
  });

  it('closes a main-thread read stopped midway (a cancelled run), statement then connection', async () => {
    const query = parseSqlTask('SELECT city, count(DISTINCT user) FROM visits GROUP BY city');
    const batches = t.store.streamSqlGroupsThreaded(ORG, query, LIMITS, undefined, {
      minRows: Infinity,
    });
    expect((await batches.next()).done).toBe(false);
    // The snapshot's connection closed while its statement was still open threw "busy", and
    // the connection (and its read transaction, which holds the WAL) stayed open.
    await expect(batches.return(undefined)).resolves.toEqual({ done: true, value: undefined });
  });

  it('uses the thread only from THREAD_MIN_ROWS rows of the first table', async () => {
    const code = 'SELECT city, count(DISTINCT user) FROM visits GROUP BY city';
    const query = parseSqlTask(code);
    const rows = t.store.rowCount(ORG, 'visits');
    const started = async (minRows: number) => {
      const batches = t.store.streamSqlGroupsThreaded(ORG, query, LIMITS, undefined, { minRows });
      await batches.next();
      const reading = busy();
      await batches.return(undefined);
      return reading;
    };
    expect(await started(rows + 1)).toBe(0);
    expect(await started(rows)).toBe(1);
  });
});
