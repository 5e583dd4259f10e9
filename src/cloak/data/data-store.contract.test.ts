// One suite for every CloakDataStore: the behaviour callers rely on, on SQLite and on PostgreSQL.
import { Readable } from 'node:stream';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PrefetchSpec } from '../../shared/index.ts';
import { numberPlaceholders, type SqliteSqlDb } from '../../store/index.ts';
import { TEST_DIALECTS, type TestDb } from '../../store/test-support.ts';
import { parseSqlTask } from '../sql-task/parse-sql-task.ts';
import type { CloakDataStore } from './data-store.ts';
import { PostgresDataStore } from './postgres-data-store.ts';
import { SEQUENCE_LOCK } from './postgres-insert.ts';
import { SqliteDataStore } from './sqlite-data-store.ts';
import { appErrorOf } from './test-support.ts';
import type { UserData } from './user-stream.ts';

const ORG = 'org-a';
const OTHER = 'org-b';
const LIMITS = { maxProperties: 100, maxTextLength: 1000 };

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const list: T[] = [];
  for await (const item of items) list.push(item);
  return list;
}

const ids = (users: UserData[]) => users.map((u) => u.userId);

describe.each(TEST_DIALECTS)('CloakDataStore on $dialect', ({ dialect, open }) => {
  let test: TestDb;
  let data: CloakDataStore;

  beforeEach(async () => {
    test = await open();
    data =
      dialect === 'sqlite'
        ? await SqliteDataStore.open(test.db as SqliteSqlDb)
        : await PostgresDataStore.open(test.db, test.address);
  });
  afterEach(async () => {
    await test.cleanup();
  });

  const people = () =>
    data.createTable(ORG, {
      name: 'people',
      columns: [
        { name: 'age', type: 'integer' },
        { name: 'city', type: 'varchar(20)' },
        { name: 'member', type: 'boolean' },
        { name: 'score', type: 'double' },
        { name: 'big', type: 'bigint' },
      ],
    });

  describe('tables', () => {
    it('defines, lists, alters (with versions) and drops tables, names unique ignoring case', async () => {
      expect((await people()).version).toBe(1);
      await data.createTable(ORG, { name: 'Visits', columns: [{ name: 'page', type: 'text' }] });
      expect((await data.listTables(ORG)).map((t) => t.name)).toEqual(['Visits', 'people']);
      await appErrorOf(
        () => data.createTable(ORG, { name: 'PEOPLE', columns: [{ name: 'x', type: 'text' }] }),
        'TABLE_EXISTS',
      );
      const altered = await data.alterTable(ORG, 'people', {
        drop: ['score'],
        add: [{ name: 'score', type: 'text' }],
      });
      expect(altered.version).toBe(2);
      expect(altered.columns.at(-1)).toEqual({ name: 'score', type: 'text' });
      await appErrorOf(
        () => data.alterTable(ORG, 'people', { add: [{ name: 'AGE', type: 'text' }] }),
        'COLUMN_EXISTS',
      );
      await appErrorOf(() => data.alterTable(ORG, 'people', { drop: ['nope'] }), 'UNKNOWN_COLUMN');
      await data.dropTable(ORG, 'Visits');
      expect(await data.getTable(ORG, 'Visits')).toBeUndefined();
      await appErrorOf(() => data.dropTable(ORG, 'Visits'), 'UNKNOWN_TABLE');
    });

    it('keeps organisations apart, even under the same names', async () => {
      await people();
      await data.insert(ORG, { u1: { people: [{ age: 1 }] } });
      expect(await data.listTables(OTHER)).toEqual([]);
      await appErrorOf(() => data.insert(OTHER, { u1: { people: [{ age: 1 }] } }), 'UNKNOWN_TABLE');
      await data.createTable(OTHER, {
        name: 'people',
        columns: [{ name: 'age', type: 'integer' }],
      });
      expect(await data.rowCount(OTHER, 'people')).toBe(0);
      expect(await all(data.streamUsers(OTHER, [{ table: 'people' }]))).toEqual([]);
      expect(await data.rowCount(ORG, 'people')).toBe(1);
    });
  });

  describe('insert', () => {
    it('stores all rows or none, and counts users with rows', async () => {
      await people();
      const counts = await data.insert(ORG, {
        u1: {
          people: [{ age: 30, city: 'Berlin', member: true, score: 1.5, big: '9007199254740991' }],
        },
        u2: { people: [] },
        u3: { people: [{ age: null }, {}] },
      });
      expect(counts).toEqual({ users: 2, rows: 3 });
      const refused = await appErrorOf(
        () => data.insert(ORG, { u4: { people: [{ age: 1 }, { age: 'old' }] } }),
        'INVALID_VALUE',
      );
      expect(refused.message).toContain('u4');
      // PostgreSQL's text cannot hold NUL, and SQLite's GLOB stops at it: refused on both.
      const nul = await appErrorOf(
        () => data.insert(ORG, { u5: { people: [{ city: 'ok' }, { city: 'Ber\u0000lin' }] } }),
        'INVALID_VALUE',
      );
      expect(nul.message).toContain('User "u5", table "people", row 2, column "city": ');
      expect(nul.message).toContain('U+0000');
      expect(await data.rowCount(ORG, 'people')).toBe(3);
      const [u1] = await all(data.streamUsers(ORG, [{ table: 'people' }], Date.now(), ['u1']));
      expect(u1!.tables.people).toEqual([
        { age: 30, city: 'Berlin', member: true, score: 1.5, big: 9007199254740991 },
      ]);
    });

    it('forgets a user in every table', async () => {
      await people();
      await data.createTable(ORG, { name: 'visits', columns: [{ name: 'page', type: 'text' }] });
      await data.insert(ORG, {
        gone: { people: [{ age: 1 }], visits: [{ page: 'a' }, { page: 'b' }] },
        stays: { visits: [{ page: 'c' }] },
      });
      expect(await data.deleteUser(ORG, 'gone')).toBe(3);
      expect(await data.deleteUser(ORG, 'gone')).toBe(0);
      expect(await data.rowCount(ORG, 'visits')).toBe(1);
    });
  });

  describe('streams', () => {
    beforeEach(async () => {
      await people();
      await data.createTable(ORG, { name: 'visits', columns: [{ name: 'page', type: 'text' }] });
    });

    it('yields users in binary user-id order, rows in arrival order, across tables of different types', async () => {
      await data.insert(ORG, { a: { people: [{ age: 2 }] }, é: { visits: [{ page: 'x' }] } });
      await data.insert(ORG, {
        B: { visits: [{ page: 'p1' }, { page: 'p2' }] },
        a: { people: [{ age: 1 }] },
      });
      const users = await all(data.streamUsers(ORG, [{ table: 'people' }, { table: 'visits' }]));
      expect(ids(users)).toEqual(['B', 'a', 'é']);
      expect(users[0]!.tables).toEqual({ people: [], visits: [{ page: 'p1' }, { page: 'p2' }] });
      expect(users[1]!.tables.people!.map((r) => r.age)).toEqual([2, 1]);
      expect(await data.userCount(ORG, ['people', 'visits'])).toBe(3);
      expect(await data.userCount(ORG, ['visits'])).toBe(2);
    });

    it('applies where, time_limit and user_rows, and reads a subset of users', async () => {
      const now = 1_000_000_000;
      await data.insert(
        ORG,
        {
          u1: { people: [{ age: 10, city: 'a', member: false }] },
          u2: { people: [{ age: null, city: 'B' }] },
        },
        now - 60_000,
      );
      await data.insert(ORG, { u1: { people: [{ age: 20, city: 'b', member: true }] } }, now);
      const run = async (spec: PrefetchSpec, userIds?: string[]) =>
        (await all(data.streamUsers(ORG, [spec], now, userIds))).map(
          (u) => `${u.userId}:${u.tables[spec.table]!.map((r) => r.age).join(',')}`,
        );
      expect(await run({ table: 'people', where: [{ $$age: { $neq: 10 } }] })).toEqual([
        'u1:20',
        'u2:',
      ]);
      expect(await run({ table: 'people', where: [{ $$age: { $gt: 5 } }] })).toEqual(['u1:10,20']);
      expect(await run({ table: 'people', where: [{ $$city: { $gte: 'a' } }] })).toEqual([
        'u1:10,20',
      ]);
      expect(await run({ table: 'people', where: [{ $$member: { $eq: true } }] })).toEqual([
        'u1:20',
      ]);
      expect(await run({ table: 'people', where: [{ $$age: { $eq: null } }] })).toEqual(['u2:']);
      expect(await run({ table: 'people', time_limit: 30 })).toEqual(['u1:20']);
      expect(await run({ table: 'people', user_rows: 1 })).toEqual(['u1:20', 'u2:']);
      expect(await run({ table: 'people' }, ['u2', 'nobody'])).toEqual(['u2:']);
    });

    it('refuses a bad prefetch with a 4xx error', async () => {
      await appErrorOf(() => all(data.streamUsers(ORG, [{ table: 'nope' }])), 'UNKNOWN_TABLE');
      await appErrorOf(() =>
        data.validatePrefetch(ORG, [{ table: 'people', where: [{ $$age: { $eq: 'x' } }] }]),
      );
    });

    it('reads one snapshot: rows inserted while a stream is read are not in it', async () => {
      const payload: Record<string, unknown> = {};
      for (let u = 0; u < 5000; u++)
        payload[`u${String(u).padStart(5, '0')}`] = { visits: [{ page: 'p' }] };
      await data.insert(ORG, payload);
      const stream = data.streamUsers(ORG, [{ table: 'visits' }])[Symbol.asyncIterator]();
      expect((await stream.next()).value?.userId).toBe('u00000');
      await data.insert(ORG, {
        zz: { visits: [{ page: 'late' }] },
        u00001: { visits: [{ page: 'late' }] },
      });
      let count = 1;
      let second: UserData | undefined;
      for (let next = await stream.next(); !next.done; next = await stream.next()) {
        if (count++ === 1) second = next.value;
      }
      expect(count).toBe(5000);
      expect(second!.tables.visits).toEqual([{ page: 'p' }]);
    });
  });

  describe('arrivals', () => {
    it('gives a watermark below which every arrival is seen once', async () => {
      await data.createTable(ORG, { name: 'events', columns: [{ name: 'v', type: 'integer' }] });
      await data.indexArrivals(ORG, 'events');
      await data.insert(ORG, { a: { events: [{ v: 1 }] }, b: { events: [{ v: 2 }] } });
      const first = await data.arrivedSince(ORG, ['events'], 0);
      expect(first.userIds.sort()).toEqual(['a', 'b']);
      await data.insert(ORG, { c: { events: [{ v: 3 }] } });
      const second = await data.arrivedSince(ORG, ['events'], first.nextSeq);
      expect(second.userIds).toEqual(['c']);
      expect(second.nextSeq).toBeGreaterThan(first.nextSeq);
      expect((await data.arrivedSince(ORG, ['events'], second.nextSeq)).userIds).toEqual([]);
    });

    it('lists a user once, however many rows of theirs arrived in one table or several', async () => {
      await data.createTable(ORG, { name: 'events', columns: [{ name: 'v', type: 'integer' }] });
      await data.createTable(ORG, { name: 'clicks', columns: [{ name: 'v', type: 'integer' }] });
      await data.insert(ORG, {
        a: { events: [{ v: 1 }, { v: 2 }, { v: 3 }], clicks: [{ v: 4 }, { v: 5 }] },
        b: { events: [{ v: 6 }] },
      });
      expect((await data.arrivedSince(ORG, ['events'], 0)).userIds.sort()).toEqual(['a', 'b']);
      const both = await data.arrivedSince(ORG, ['events', 'clicks'], 0);
      expect(both.userIds.sort()).toEqual(['a', 'b']);
    });

    it.runIf(dialect === 'postgres')(
      'waits for an upload that drew its sequence but has not committed (PostgreSQL)',
      async () => {
        await data.createTable(ORG, { name: 'events', columns: [{ name: 'v', type: 'integer' }] });
        const before = await data.arrivedSince(ORG, ['events'], 0);
        // An upload in flight, as postgres-insert.ts makes it: lock shared, draw, insert, not yet committed.
        const client = new pg.Client({ connectionString: test.address });
        await client.connect();
        try {
          await client.query('BEGIN');
          await client.query('SELECT pg_advisory_xact_lock_shared($1)', [SEQUENCE_LOCK]);
          const { rows } = await client.query("SELECT nextval('data_sequence') AS s");
          await client.query(
            numberPlaceholders(
              'INSERT INTO data_rows_1 (ac_user_id, ac_seq, ac_arrival, v) VALUES (?, ?, 0, 1)',
            ),
            ['slow', rows[0].s],
          );
          // A later upload commits first, with a higher sequence.
          await data.insert(ORG, { fast: { events: [{ v: 2 }] } });
          let settled = false;
          const pass = data.arrivedSince(ORG, ['events'], before.nextSeq).then((r) => {
            settled = true;
            return r;
          });
          await new Promise((resolve) => setTimeout(resolve, 200));
          expect(settled).toBe(false);
          await client.query('COMMIT');
          expect((await pass).userIds.sort()).toEqual(['fast', 'slow']);
        } finally {
          await client.end();
        }
      },
    );
  });

  describe('lookup tables', () => {
    it('replaces whole tables, answers lookups, and keeps names unique ignoring case', async () => {
      await data.setLookupTable(ORG, 'cities', [
        ['1', 'Berlin'],
        [2, 'Paris'],
      ]);
      expect(await data.lookup(ORG, 'cities', '2')).toBe('Paris');
      const reader = await data.lookupReader(ORG);
      expect([reader('cities', '1'), reader('cities', '3'), reader('nope', '1')]).toEqual([
        'Berlin',
        undefined,
        undefined,
      ]);
      await data.setLookupTable(ORG, 'cities', [['1', 'Hamburg']]);
      expect(await data.lookup(ORG, 'cities', '2')).toBeUndefined();
      expect(await data.lookup(OTHER, 'cities', '1')).toBeUndefined();
      // No stored key holds NUL (refused on upload): asking for one finds nothing on both stores,
      // where PostgreSQL would have refused the query.
      expect(await data.lookup(ORG, 'cities', '1\u0000')).toBeUndefined();
      await appErrorOf(() => data.setLookupTable(ORG, 'nul', [['k', 'v\u0000']]), 'INVALID_BODY');
      await appErrorOf(() => data.setLookupTable(ORG, 'Cities', []), 'NAME_TAKEN');
      expect(await data.listLookupTables(ORG)).toEqual(['cities']);
      await data.removeLookupTable(ORG, 'cities');
      await appErrorOf(() => data.removeLookupTable(ORG, 'cities'), 'UNKNOWN_LOOKUP_TABLE');
    });
  });

  describe('sql groups', () => {
    it('compiles and runs sql tasks the same way: division, dates, lookups, strings, booleans', async () => {
      await people();
      await data.setLookupTable(ORG, 'ages', [['30', 'thirties']]);
      await data.insert(ORG, {
        u1: { people: [{ age: 30, city: 'berlin', member: true, score: 7, big: 86_400 * 365 }] },
        u2: { people: [{ age: 45, city: 'Paris', member: false, score: 2.5, big: 0 }] },
        u3: { people: [{ age: 31, city: 'berlin', member: true, score: 12, big: 86_400 * 40 }] },
      });
      const groups = async (code: string, userIds?: string[]) => {
        const query = parseSqlTask(code);
        await data.compileSqlTask(ORG, query);
        return (await all(data.streamSqlGroups(ORG, query, LIMITS, userIds)))
          .flat()
          .map((g) =>
            g.ok ? `${g.userId}=${g.properties.map((p) => p[1]).join('|')}` : `${g.userId}!`,
          );
      };
      expect(
        await groups(
          'SELECT floor(age / 10) * 10 AS decade, count(DISTINCT user) FROM people GROUP BY decade',
        ),
      ).toEqual(['u1=30', 'u2=40', 'u3=30']);
      expect(
        await groups('SELECT score / 2 AS half, count(DISTINCT user) FROM people GROUP BY half'),
      ).toEqual(['u1=3.5', 'u2=1.25', 'u3=6']);
      expect(
        await groups(
          'SELECT extract(year FROM big) AS y, extract(doy FROM big) AS d, count(DISTINCT user) FROM people GROUP BY y, d',
        ),
      ).toEqual(['u1=1971, 1', 'u2=1970, 1', 'u3=1970, 41']);
      expect(
        await groups(
          "SELECT lookup('ages', age) AS l, count(DISTINCT user) FROM people GROUP BY l",
        ),
      ).toEqual(['u1=thirties', 'u2=null', 'u3=null']);
      expect(
        await groups(
          "SELECT member, count(DISTINCT user) FROM people WHERE city < 'a' OR city = 'berlin' GROUP BY member",
        ),
      ).toEqual(['u1=true', 'u2=false', 'u3=true']);
      expect(
        await groups('SELECT city, count(DISTINCT user) FROM people GROUP BY city', ['u3']),
      ).toEqual(['u3=berlin']);
      // CASE: conditions as in WHERE (NULL matches no comparison), constants or values as results.
      expect(
        await groups(
          `SELECT CASE WHEN age >= 40 THEN 'older' WHEN city = 'berlin' AND score > 10 THEN 'bb'
             ELSE city END AS c, count(DISTINCT user) FROM people GROUP BY c`,
        ),
      ).toEqual(['u1=berlin', 'u2=older', 'u3=bb']);
      expect(
        await groups(
          `SELECT CASE city WHEN 'Paris' THEN 1.5 WHEN 'berlin' THEN score / 2 END AS n,
             CASE WHEN age < 31 THEN member END AS m, count(DISTINCT user) FROM people GROUP BY n, m`,
        ),
      ).toEqual(['u1=3.5, true', 'u2=1.5, null', 'u3=6, null']);
      // LIKE: case-sensitive, `_` one character, the stores' own wildcards literal.
      await data.insert(ORG, {
        u4: { people: [{ age: 1, city: 'b*r[l]?n' }] },
        u5: { people: [{ age: 2, city: '50% off_\\x' }] },
        u6: { people: [{ age: 3, city: 'Zürich' }] },
      });
      const matching = async (pattern: string) =>
        (
          await groups(
            `SELECT age, count(DISTINCT user) FROM people WHERE city LIKE ${pattern} GROUP BY age`,
          )
        ).map((g) => g.split('=')[0]);
      expect(await matching("'b%'")).toEqual(['u1', 'u3', 'u4']);
      expect(await matching("'B%'")).toEqual([]);
      expect(await matching("'%i_'")).toEqual(['u1', 'u2', 'u3']);
      expect(await matching("'b*r[l]?n'")).toEqual(['u4']);
      expect(await matching("'b_r%'")).toEqual(['u1', 'u3', 'u4']);
      expect(await matching("'50!% off!_\\x' ESCAPE '!'")).toEqual(['u5']);
      expect(await matching("'50\\% off%'")).toEqual([]);
      expect(await matching("'Z_rich'")).toEqual(['u6']);
      expect(
        await groups(
          "SELECT count(DISTINCT user) AS n FROM people WHERE NOT (city NOT LIKE '%r%') AND age < 3",
        ),
      ).toEqual(['u4=']);
      await appErrorOf(
        () =>
          data.compileSqlTask(
            ORG,
            parseSqlTask("SELECT count(DISTINCT user) FROM people WHERE age LIKE '3%'"),
          ),
        'INVALID_SQL_TASK',
      );
      // IS [NOT] TRUE|FALSE is never NULL: IS NOT TRUE keeps a NULL member.
      const members = async (condition: string) =>
        (
          await groups(
            `SELECT age, count(DISTINCT user) FROM people WHERE ${condition} AND age < 50 GROUP BY age`,
          )
        ).map((g) => g.split('=')[0]);
      expect(await members('member IS NOT TRUE')).toEqual(['u2', 'u4', 'u5', 'u6']);
      expect(await members('NOT (member IS TRUE)')).toEqual(['u2', 'u4', 'u5', 'u6']);
      expect(await members('member IS FALSE')).toEqual(['u2']);
      expect(await members('member IS NOT FALSE')).toEqual(['u1', 'u3', 'u4', 'u5', 'u6']);
      // Dates outside years 1 to 9999 (milliseconds taken for seconds, say) are NULL in both
      // stores: SQLite has none past 9999, PostgreSQL fails far out.
      await data.insert(ORG, {
        u7: { people: [{ age: 101, big: 1_700_000_000_000 }] },
        u8: { people: [{ age: 102, big: 253_402_300_799 }] },
        u9: { people: [{ age: 103, big: 253_402_300_800 }] },
        v1: { people: [{ age: 104, big: -62_135_596_800 }] },
        v2: { people: [{ age: 105, big: -62_135_596_801 }] },
        v3: { people: [{ age: 106, big: 1e15 }] },
      });
      expect(
        await groups(
          `SELECT extract(year FROM big) AS y, extract(doy FROM big + 1) AS d, count(DISTINCT user)
           FROM people WHERE age > 100 GROUP BY y, d`,
        ),
      ).toEqual([
        'u7=null, null',
        'u8=9999, null',
        'u9=null, null',
        'v1=1, 1',
        'v2=null, 1',
        'v3=null, null',
      ]);
    });
  });

  describe('file import', () => {
    it('imports a CSV file in batches and resumes after what is stored', async () => {
      await data.createTable(ORG, { name: 'buys', columns: [{ name: 'amount', type: 'double' }] });
      const csv = ['user,amount', 'a,1', 'b,2', 'c,x', 'd,4'].join('\n');
      const options = {
        format: 'csv' as const,
        table: 'buys',
        userColumn: 'user',
        source: 'buys.csv',
        batchRows: 1,
      };
      await appErrorOf(
        () => data.importFile(ORG, Readable.from([csv]), options),
        'IMPORT_INVALID_LINE',
      );
      expect(await data.rowCount(ORG, 'buys')).toBe(2);
      const fixed = csv.replace('c,x', 'c,3');
      const resumed = await data.importFile(ORG, Readable.from([fixed]), {
        ...options,
        resume: true,
      });
      expect(resumed.rows).toBe(2);
      expect(await data.rowCount(ORG, 'buys')).toBe(4);
    });
  });
});
