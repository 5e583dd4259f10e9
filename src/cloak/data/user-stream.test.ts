// streamUsers: time_limit, user_rows, grouping by user, snapshots on a separate connection, and the query plan.
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PrefetchSpec } from '../../shared/index.ts';
import { sqliteSqlDb } from '../../store/index.ts';
import { SqliteDataStore } from './sqlite-data-store.ts';
import { buildStreamQuery } from './prefetch-sql.ts';
import { TableCatalogue, type StoredTable } from './table-catalogue.ts';
import { appError, openTestStore, type TestStore } from './test-support.ts';

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
});
afterEach(() => t.close());

describe('time_limit and user_rows', () => {
  beforeEach(() => {
    t.store.createTable('org', { name: 'e', columns: [{ name: 'n', type: 'integer' }] });
    t.store.insert('org', { b: { e: [{ n: 10 }] }, a: { e: [{ n: 1 }] } }, 1000);
    for (let n = 2; n <= 4; n++) t.store.insert('org', { a: { e: [{ n }] } }, n * 1000);
    t.store.insert('org', { a: { e: [{ n: 5 }] }, b: { e: [{ n: 11 }] } }, 5000);
  });

  const stream = (spec: Omit<PrefetchSpec, 'table'>, now = 6000) =>
    Object.fromEntries(
      [...t.store.streamUsers('org', [{ table: 'e', ...spec }], now)].map((u) => [
        u.userId,
        u.tables.e?.map((r) => r.n),
      ]),
    );

  it("returns each user's rows in arrival order", () => {
    expect(stream({})).toEqual({ a: [1, 2, 3, 4, 5], b: [10, 11] });
  });

  it('user_rows keeps the last N rows', () => {
    expect(stream({ user_rows: 2 })).toEqual({ a: [4, 5], b: [10, 11] });
    expect(stream({ user_rows: 1 })).toEqual({ a: [5], b: [11] });
    expect(stream({ user_rows: 100 })).toEqual({ a: [1, 2, 3, 4, 5], b: [10, 11] });
  });

  it('user_rows applies after the filter', () => {
    expect(stream({ user_rows: 2, where: [{ $$n: { $neq: 5 } }] })).toEqual({
      a: [3, 4],
      b: [10, 11],
    });
  });

  it('time_limit keeps rows that arrived at or after now - time_limit seconds', () => {
    expect(stream({ time_limit: 3 })).toEqual({ a: [3, 4, 5], b: [11] });
    expect(stream({ time_limit: 1 })).toEqual({ a: [5], b: [11] });
    expect(stream({ time_limit: 0.5 })).toEqual({});
    expect(stream({ time_limit: 3 }, 7000)).toEqual({ a: [4, 5], b: [11] });
  });

  it('time_limit and the filter apply before user_rows', () => {
    expect(stream({ time_limit: 3, user_rows: 2 })).toEqual({ a: [4, 5], b: [11] });
    expect(stream({ time_limit: 4, user_rows: 2, where: [{ $$n: { $lt: 5 } }] })).toEqual({
      a: [3, 4],
    });
  });

  it('keeps exactly the last N of a long history', () => {
    t.store.insert('org', { c: { e: Array.from({ length: 500 }, (_, i) => ({ n: i + 1 })) } });
    const last = (n: number) => stream({ user_rows: n }).c;
    expect(last(70)).toEqual(Array.from({ length: 70 }, (_, i) => 431 + i));
    expect(last(1)).toEqual([500]);
    expect(last(499)?.[0]).toBe(2);
  });
});

/** WAL frames a passive checkpoint could not copy back, because a reader still needs them. */
function pendingWalFrames(): number {
  const [result] = t.db.pragma('wal_checkpoint(PASSIVE)') as Array<{
    log: number;
    checkpointed: number;
  }>;
  return (result?.log ?? 0) - (result?.checkpointed ?? 0);
}

describe('grouping by user', () => {
  beforeEach(() => {
    t.store.createTable('org', { name: 'visits', columns: [{ name: 'page', type: 'text' }] });
    t.store.createTable('org', {
      name: 'buys',
      columns: [
        { name: 'amount', type: 'double' },
        { name: 'ok', type: 'boolean' },
      ],
    });
    t.store.createTable('org', { name: 'unused', columns: [{ name: 'x', type: 'integer' }] });
    t.store.insert('org', {
      carol: { visits: [{ page: 'c1' }] },
      alice: { visits: [{ page: 'a1' }], buys: [{ amount: 1, ok: true }] },
      bob: { buys: [{ amount: 2, ok: false }] },
      dave: { unused: [{ x: 1 }] },
    });
    t.store.insert('org', {
      alice: { visits: [{ page: 'a2' }], buys: [{ amount: 3, ok: null }] },
      carol: { visits: [{ page: 'c2' }] },
    });
  });

  it('yields every user with a row in any prefetched table, with every table present, in user order', () => {
    const users = [...t.store.streamUsers('org', [{ table: 'buys' }, { table: 'visits' }])];
    expect(users).toEqual([
      {
        userId: 'alice',
        tables: {
          buys: [
            { amount: 1, ok: true },
            { amount: 3, ok: null },
          ],
          visits: [{ page: 'a1' }, { page: 'a2' }],
        },
      },
      { userId: 'bob', tables: { buys: [{ amount: 2, ok: false }], visits: [] } },
      { userId: 'carol', tables: { buys: [], visits: [{ page: 'c1' }, { page: 'c2' }] } },
    ]);
  });

  it('leaves out users whose rows are all filtered away', () => {
    const users = [
      ...t.store.streamUsers('org', [
        { table: 'buys', where: [{ $$ok: { $eq: false } }] },
        { table: 'visits', where: [{ $$page: { $eq: 'a2' } }] },
      ]),
    ];
    expect(users).toEqual([
      { userId: 'alice', tables: { buys: [], visits: [{ page: 'a2' }] } },
      { userId: 'bob', tables: { buys: [{ amount: 2, ok: false }], visits: [] } },
    ]);
  });

  it('orders user ids by code point, deterministically', () => {
    t.store.createTable('org', { name: 'ids', columns: [{ name: 'v', type: 'integer' }] });
    const ids = ['b', 'a', 'B', 'é', '😀', '\uffff', 'a ', 'aa'];
    t.store.insert('org', Object.fromEntries(ids.map((id) => [id, { ids: [{ v: 1 }] }])));
    const seen = [...t.store.streamUsers('org', [{ table: 'ids' }])].map((u) => u.userId);
    expect(seen).toEqual(['B', 'a', 'a ', 'aa', 'b', 'é', '\uffff', '😀']);
  });

  it('validates eagerly, before any row is read', () => {
    appError(() => t.store.streamUsers('org', [{ table: 'nope' }]), 'UNKNOWN_TABLE');
    appError(
      () => t.store.streamUsers('org', [{ table: 'buys', where: [{ $$nope: { $eq: 1 } }] }]),
      'UNKNOWN_COLUMN',
    );
  });

  it('reads a consistent snapshot on its own connection while the main one keeps writing', () => {
    t.store.setLookupTable('org', 'names', [['alice', 'Alice']]);
    const iterator = t.store.streamUsers('org', [{ table: 'visits' }])[Symbol.iterator]();
    expect(iterator.next().value?.userId).toBe('alice');
    // The main connection is free: uploads, deletes and lookups work mid-stream...
    t.store.insert('org', { zed: { visits: [{ page: 'z' }] } });
    expect(t.store.deleteUser('org', 'carol')).toBe(2);
    expect(t.store.lookup('org', 'names', 'alice')).toBe('Alice');
    // ...and the stream still sees the data as it was when it started.
    expect(iterator.next().value).toEqual({
      userId: 'carol',
      tables: { visits: [{ page: 'c1' }, { page: 'c2' }] },
    });
    // An open reader holds its snapshot, so the frames written since cannot be checkpointed yet.
    expect(pendingWalFrames()).toBeGreaterThan(0);
    expect(iterator.next().done).toBe(true);
    expect(pendingWalFrames()).toBe(0);
    expect([...t.store.streamUsers('org', [{ table: 'visits' }])].map((u) => u.userId)).toEqual([
      'alice',
      'zed',
    ]);
  });

  it('closes its connection when the consumer stops early', () => {
    for (const user of t.store.streamUsers('org', [{ table: 'visits' }])) {
      expect(user.userId).toBe('alice');
      break;
    }
    t.store.insert('org', { zed: { visits: [{ page: 'z' }] } });
    expect(pendingWalFrames()).toBe(0);
  });

  it('streams from an in-memory database too', async () => {
    const store = (await SqliteDataStore.open(sqliteSqlDb(new Database(':memory:')))).sync;
    store.createTable('org', { name: 'v', columns: [{ name: 'n', type: 'integer' }] });
    store.insert('org', { y: { v: [{ n: 2 }] }, x: { v: [{ n: 1 }] } });
    expect([...store.streamUsers('org', [{ table: 'v' }])].map((u) => u.userId)).toEqual([
      'x',
      'y',
    ]);
  });

  it('never sorts: SQLite reads every arm in primary-key order and merges them', () => {
    const catalogue = new TableCatalogue(t.db);
    const specs: PrefetchSpec[] = [
      {
        table: 'visits',
        time_limit: 60,
        where: [{ $or: [{ $$page: { $eq: 'a1' } }, { $not: { $$page: { $lt: 'b' } } }] }],
      },
      { table: 'buys', user_rows: 1, where: [{ $$amount: { $gt: 1 } }] },
      { table: 'unused' },
    ];
    const tables = specs.map((s) => catalogue.find('org', s.table) as StoredTable);
    const query = buildStreamQuery(specs, tables, Date.now());
    const plan = (
      t.db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.params) as Array<{
        detail: string;
      }>
    )
      .map((r) => r.detail)
      .join(' | ');
    expect(plan).toContain('MERGE (UNION ALL)');
    expect(plan).not.toMatch(/TEMP B-TREE/);
    const single = buildStreamQuery(
      [specs[0] as PrefetchSpec],
      [tables[0] as StoredTable],
      Date.now(),
    );
    const singlePlan = (
      t.db.prepare(`EXPLAIN QUERY PLAN ${single.sql}`).all(...single.params) as Array<{
        detail: string;
      }>
    )
      .map((r) => r.detail)
      .join(' | ');
    expect(singlePlan).not.toMatch(/TEMP B-TREE/);
  });
});
