// Every query in docs/sql.md and on the site's task page is accepted and runs, on SQLite and on PostgreSQL alike.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloakDataStore } from '../../src/cloak/data/index.ts';
import { openDataStore } from '../../src/cloak/data/open-data-store.ts';
import { openTestStore, type TestStore } from '../../src/cloak/data/test-support.ts';
import { parseSqlTask } from '../../src/cloak/sql-task/parse-sql-task.ts';
import { createTestDatabase } from '../../src/store/test-support.ts';
import { SQL_EXAMPLES } from '../../web/src/sql-examples.ts';

const DOC = path.resolve(import.meta.dirname, '../../docs/sql.md');
const documented = [...readFileSync(DOC, 'utf8').matchAll(/```sql\n([\s\S]*?)```/g)].map(
  (m) => m[1]!,
);

const ORG = 'docs';
const LIMITS = { maxProperties: 100, maxTextLength: 1000 };
const CITIES = ['Berlin', 'Paris', 'Rome', null];

let t: TestStore;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let postgres: CloakDataStore;

async function fill(data: CloakDataStore): Promise<void> {
  await data.createTable(ORG, {
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
  await data.createTable(ORG, {
    name: 'people',
    columns: [
      { name: 'age', type: 'integer' },
      { name: 'country', type: 'text' },
    ],
  });
  await data.createTable(ORG, {
    name: 'purchases',
    columns: [
      { name: 'amount', type: 'double' },
      { name: 'time', type: 'bigint' },
      { name: 'item', type: 'text' },
    ],
  });
  await data.setLookupTable(ORG, 'countries', [['DE', 'Germany']]);
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
  await data.insert(ORG, users);
}

beforeAll(async () => {
  t = await openTestStore();
  database = await createTestDatabase('oc_docs_sql');
  postgres = await openDataStore(database.url);
  await fill(t.data);
  await fill(postgres);
});

afterAll(async () => {
  t?.close();
  await postgres?.close();
  await database?.drop();
});

/** Each user's groups, as a store gives them (in value order: PostgreSQL's order within a user is its own). */
async function groupsOf(data: CloakDataStore, text: string): Promise<string[]> {
  const query = parseSqlTask(text);
  await data.compileSqlTask(ORG, query);
  const users: string[] = [];
  for await (const batch of data.streamSqlGroups(ORG, query, LIMITS)) {
    for (const user of batch) {
      const values = user.ok ? user.properties.map((p) => p[1]).sort() : undefined;
      users.push(values ? `${user.userId}=${values.join('|')}` : '!');
    }
  }
  return users;
}

describe('the queries of docs/sql.md and of the task page', () => {
  it('are there to check', () => {
    expect(documented.length).toBeGreaterThanOrEqual(8);
    expect(SQL_EXAMPLES.length).toBeGreaterThanOrEqual(3);
  });

  it.each([...documented, ...SQL_EXAMPLES])('run as written: %s', async (text) => {
    const users = await groupsOf(t.data, text);
    expect(users.length).toBeGreaterThan(0);
    expect(users).not.toContain('!');
    expect(await groupsOf(postgres, text)).toEqual(users);
  });
});
