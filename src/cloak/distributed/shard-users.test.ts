// One suite for every ShardUserSource: a worker's shards hold each user once, with the rows and lookups an in-process run sees, on SQLite and PostgreSQL.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { userKey } from '../../anonymizer/index.ts';
import type { PrefetchSpec } from '../../shared/index.ts';
import { openPostgresDb, type SqliteSqlDb } from '../../store/index.ts';
import { createTestDatabase, TEST_DIALECTS, type TestDb } from '../../store/test-support.ts';
import {
  PostgresDataStore,
  PostgresPartitionReader,
  SqliteDataStore,
  type CloakDataStore,
  type UserData,
} from '../data/index.ts';
import { openShardUsers, shardOf, type ShardUserSource } from './shard-users.ts';

const ORG = 'org-a';
const OTHER = 'org-b';
const USERS = 60;
const SHARDS = 3;

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const list: T[] = [];
  for await (const item of items) list.push(item);
  return list;
}

/** Users in two tables, some in one only, and another organisation's rows under the same names. */
async function fill(data: CloakDataStore): Promise<void> {
  for (const org of [ORG, OTHER]) {
    await data.createTable(org, { name: 'visits', columns: [{ name: 'page', type: 'text' }] });
    await data.createTable(org, { name: 'buys', columns: [{ name: 'amount', type: 'integer' }] });
    await data.setLookupTable(org, 'pages', [['home', org === ORG ? 'start' : 'other']]);
  }
  const payload: Record<string, unknown> = {};
  for (let u = 0; u < USERS; u++) {
    payload[`user-${u}`] = {
      visits: [{ page: u % 2 === 0 ? 'home' : 'cart' }, { page: 'help' }],
      ...(u % 3 === 0 ? { buys: [{ amount: u }] } : {}),
    };
  }
  await data.insert(ORG, payload);
  await data.insert(OTHER, { stranger: { visits: [{ page: 'home' }] } });
}

describe.each(TEST_DIALECTS)('ShardUserSource on $dialect', ({ dialect, open }) => {
  const secret = new Uint8Array(randomBytes(32));
  let test: TestDb;
  let data: CloakDataStore;
  let source: ShardUserSource;

  beforeEach(async () => {
    test = await open();
    data =
      dialect === 'sqlite'
        ? await SqliteDataStore.open(test.db as SqliteSqlDb)
        : await PostgresDataStore.open(test.db, test.address);
    await fill(data);
    source = await openShardUsers(test.address, secret);
  });
  afterEach(async () => {
    await source.close();
    await test.cleanup();
  });

  const shardsOf = (prefetch: PrefetchSpec[]) =>
    Promise.all(
      Array.from({ length: SHARDS }, (_, index) =>
        all(source.users(ORG, prefetch, Date.now(), { index, of: SHARDS })),
      ),
    );

  it.each<[string, PrefetchSpec[]]>([
    ['one table', [{ table: 'visits' }]],
    ['two tables', [{ table: 'visits' }, { table: 'buys' }]],
    [
      'a filter that leaves some users without rows',
      [{ table: 'visits', where: [{ $$page: { $eq: 'home' } }] }],
    ],
  ])(
    'splits the users of %s into disjoint shards by key, rows as a whole run reads them',
    async (_, prefetch) => {
      const whole = await all(data.streamUsers(ORG, prefetch, Date.now()));
      const shards = await shardsOf(prefetch);
      shards.forEach((users, index) => {
        for (const { userId } of users)
          expect(shardOf(userKey(secret, userId), SHARDS)).toBe(index);
      });
      const byId = (a: UserData, b: UserData) => (a.userId < b.userId ? -1 : 1);
      expect(shards.flat().sort(byId)).toEqual([...whole].sort(byId));
      // Every shard has users: the keyed hash spreads 60 users over 3 shards.
      expect(shards.every((users) => users.length > 0)).toBe(true);
    },
  );

  it.runIf(dialect === 'postgres')(
    'lists each user once per shard, however many rows and tables they have',
    async () => {
      const reader = await PostgresPartitionReader.open(test.address);
      try {
        // Two rows a user in visits: one table alone must not list a user per row.
        for (const prefetch of [[{ table: 'visits' }], [{ table: 'visits' }, { table: 'buys' }]]) {
          const asked: string[] = [];
          await all(
            reader.streamUsersWhere(ORG, prefetch, Date.now(), (userId) => {
              asked.push(userId);
              return false;
            }),
          );
          expect(asked.length).toBe(USERS);
          expect(new Set(asked).size).toBe(USERS);
        }
      } finally {
        await reader.close();
      }
    },
  );

  it("reads the organisation's own rows and lookup tables only", async () => {
    const users = (await shardsOf([{ table: 'visits' }])).flat();
    expect(users.map((u) => u.userId)).not.toContain('stranger');
    const lookup = await source.lookupReader(ORG);
    expect(lookup('pages', 'home')).toBe('start');
    expect(lookup('pages', 'cart')).toBeUndefined();
    expect(lookup('nothing', 'home')).toBeUndefined();
  });
});

describe('PostgresPartitionReader', () => {
  it('refuses a database the server has not prepared, creating nothing in it', async () => {
    const { url, drop } = await createTestDatabase('oc_shard');
    try {
      await expect(PostgresPartitionReader.open(url)).rejects.toThrow(/holds no data tables yet/);
      // Still empty: the check wrote nothing, not even the migration runner's own table.
      const db = openPostgresDb(url);
      try {
        const tables = await db.all("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
        expect(tables).toEqual([]);
      } finally {
        await db.close();
      }
    } finally {
      await drop();
    }
  });
});
