// The users a run's release slot and progress count towards: distinct users, however many rows each has.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openTestStore, type TestStore } from './test-support.ts';

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
  t.store.createTable('org', { name: 'visits', columns: [{ name: 'page', type: 'integer' }] });
  t.store.createTable('org', { name: 'buys', columns: [{ name: 'amount', type: 'integer' }] });
});
afterEach(() => t.close());

const rows = (n: number) => Array.from({ length: n }, (_, page) => ({ page }));

it('counts each user once in a one-table selection with many rows per user', () => {
  const payload = Object.fromEntries(
    Array.from({ length: 50 }, (_, u) => [`u${u}`, { visits: rows(40) }]),
  );
  t.store.insert('org', payload);
  expect(t.store.rowCount('org', 'visits')).toBe(2000);
  expect(t.store.userCount('org', ['visits'])).toBe(50);
});

it('counts a user with rows in two selected tables once, and users of either table', () => {
  t.store.insert('org', {
    both: { visits: rows(3), buys: [{ amount: 1 }, { amount: 2 }] },
    visitor: { visits: rows(5) },
    buyer: { buys: [{ amount: 3 }] },
  });
  expect(t.store.userCount('org', ['visits', 'buys'])).toBe(3);
  expect(t.store.userCount('org', ['buys'])).toBe(2);
});
