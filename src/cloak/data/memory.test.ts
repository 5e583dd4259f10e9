// streamUsers runs in bounded memory: 200k users x 5 rows stream with a small, flat heap (not a timing test).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exposedGc, openTestStore, type TestStore } from './test-support.ts';

const USERS = 200_000;
const ROWS_PER_USER = 5;
const USERS_PER_UPLOAD = 20_000;
const HEAP_BOUND_BYTES = 100 * 1024 * 1024;

const gc = exposedGc();

let t: TestStore;
beforeAll(async () => {
  t = await openTestStore();
  t.store.createTable('org', {
    name: 'events',
    columns: [
      { name: 'kind', type: 'varchar(16)' },
      { name: 'amount', type: 'double' },
      { name: 'flag', type: 'boolean' },
    ],
  });
  t.store.createTable('org', { name: 'profile', columns: [{ name: 'age', type: 'integer' }] });
  for (let start = 0; start < USERS; start += USERS_PER_UPLOAD) {
    const payload: Record<string, unknown> = {};
    for (let u = start; u < start + USERS_PER_UPLOAD; u++) {
      const events = Array.from({ length: ROWS_PER_USER }, (_, i) => ({
        kind: `kind-${i}`,
        amount: u + i / 10,
        flag: i % 2 === 0,
      }));
      payload[`user-${String(u).padStart(7, '0')}`] = {
        events,
        ...(u % 2 === 0 ? { profile: [{ age: u % 90 }] } : {}),
      };
    }
    t.store.insert('org', payload);
  }
}, 300_000);
afterAll(() => t.close());

describe('memory', () => {
  it(`streams ${USERS} users x ${ROWS_PER_USER} rows one by one with heap growth under 100 MB`, () => {
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    let users = 0;
    let rows = 0;
    let previous = '';
    for (const user of t.store.streamUsers('org', [{ table: 'events' }, { table: 'profile' }])) {
      expect(user.userId > previous).toBe(true);
      previous = user.userId;
      users++;
      rows += (user.tables.events?.length ?? 0) + (user.tables.profile?.length ?? 0);
      if (users % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
    }
    expect(users).toBe(USERS);
    expect(rows).toBe(USERS * ROWS_PER_USER + USERS / 2);
    expect(peak).toBeLessThan(HEAP_BOUND_BYTES);
  }, 300_000);
});
