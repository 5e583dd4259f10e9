// Every query in docs/sql.md and on the site's task page is accepted and runs over tables with the columns it names.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, type TestStore } from '../../src/cloak/data/test-support.ts';
import { parseSqlTask } from '../../src/cloak/sql-task/parse-sql-task.ts';
import { SQL_EXAMPLES } from '../../web/src/sql-examples.ts';

const DOC = path.resolve(import.meta.dirname, '../../docs/sql.md');
const documented = [...readFileSync(DOC, 'utf8').matchAll(/```sql\n([\s\S]*?)```/g)].map(
  (m) => m[1]!,
);

const ORG = 'docs';
const LIMITS = { maxProperties: 100, maxTextLength: 1000 };
const CITIES = ['Berlin', 'Paris', 'Rome', null];

let t: TestStore;

beforeAll(async () => {
  t = await openTestStore();
  t.store.createTable(ORG, {
    name: 'visits',
    columns: [
      { name: 'city', type: 'text' },
      { name: 'duration', type: 'integer' },
      { name: 'paid', type: 'boolean' },
      { name: 'referrer', type: 'text' },
      { name: 'amount', type: 'double' },
      { name: 'channel', type: 'text' },
    ],
  });
  t.store.createTable(ORG, {
    name: 'people',
    columns: [
      { name: 'age', type: 'integer' },
      { name: 'country', type: 'text' },
    ],
  });
  t.store.createTable(ORG, {
    name: 'purchases',
    columns: [
      { name: 'amount', type: 'double' },
      { name: 'time', type: 'bigint' },
      { name: 'item', type: 'text' },
    ],
  });
  t.store.setLookupTable(ORG, 'countries', [['DE', 'Germany']]);
  const users: Record<string, unknown> = {};
  for (let u = 0; u < 40; u++) {
    users[`u${u}`] = {
      visits: [
        {
          city: CITIES[u % 4],
          duration: u % 60,
          paid: u % 3 === 0,
          referrer: u % 5 === 0 ? 'https://www.example.com/ad' : null,
          amount: u * 10,
          channel: u % 2 === 0 ? 'web' : null,
        },
      ],
      people: [{ age: 18 + u, country: u % 2 === 0 ? 'DE' : 'FR' }],
      purchases: [
        { amount: u * 7.5, time: 1_700_000_000 + u * 86_400, item: u % 3 ? 'book' : 'pen' },
      ],
    };
  }
  t.store.insert(ORG, users);
});
afterAll(() => t?.close());

describe('the queries of docs/sql.md and of the task page', () => {
  it('are there to check', () => {
    expect(documented.length).toBeGreaterThanOrEqual(8);
    expect(SQL_EXAMPLES.length).toBeGreaterThanOrEqual(3);
  });

  it.each([...documented, ...SQL_EXAMPLES])('run as written: %s', (text) => {
    const query = parseSqlTask(text);
    t.store.compileSqlTask(ORG, query);
    const users = [...t.store.streamSqlGroups(ORG, query, LIMITS)];
    expect(users.length).toBeGreaterThan(0);
    expect(users.every((user) => user.ok)).toBe(true);
  });
});
