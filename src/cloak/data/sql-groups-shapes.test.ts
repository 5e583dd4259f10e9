// A sql task's groups read as one JSON array per user give what one row per (user, group) gives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSqlTask } from '../sql-task/parse-sql-task.ts';
import { compileSqlTask } from './sql-compile.ts';
import { SQLITE_FLAVOR } from './sql-dialect.ts';
import {
  groupsByUser,
  groupsOfUsers,
  sqlScope,
  withRowsFallback,
  type GroupLimits,
  type SqlUserGroups,
} from './sql-groups.ts';
import { openTestStore, type TestStore } from './test-support.ts';

const ORG = 'org-shapes';
const LIMITS: GroupLimits = { maxProperties: 10_000, maxTextLength: 1000 };
const SMALL: GroupLimits = { maxProperties: 3, maxTextLength: 12 };

/** Values where a text form could lose something: reals, big integers, -0, nulls, escapes. */
const CITIES = ['Berlin', 'Oslo', null, 'a "quoted" \\ text', 'tab\tand\nnewline', 'é😀', '', 'zz'];
const AMOUNTS = [0.1 + 0.2, -0, 1e21, 1.5e-7, 5e-324, 1.7976931348623157e308, 7, null, 2.5];
const BIG = [9007199254740991, -9007199254740991, 0, null, 123456789012];

let t: TestStore;

beforeAll(async () => {
  t = await openTestStore();
  t.store.createTable(ORG, {
    name: 'visits',
    columns: [
      { name: 'city', type: 'text' },
      { name: 'amount', type: 'double' },
      { name: 'big', type: 'bigint' },
      { name: 'paid', type: 'boolean' },
      { name: 'code', type: 'varchar(4)' },
    ],
  });
  t.store.createTable(ORG, { name: 'people', columns: [{ name: 'age', type: 'integer' }] });
  t.store.setLookupTable(ORG, 'names', [
    ['DE', 'Germany'],
    ['NO', 'Norway'],
  ]);
  const users: Record<string, unknown> = {};
  for (let u = 0; u < 60; u++) {
    users[`u${String(u).padStart(3, '0')}`] = {
      visits: Array.from({ length: 1 + (u % 9) }, (_, i) => {
        const h = (u * 2654435761 + i * 40503) >>> 0;
        return {
          city: CITIES[h % CITIES.length],
          amount: AMOUNTS[(h >>> 3) % AMOUNTS.length],
          big: BIG[(h >>> 7) % BIG.length],
          paid: [true, false, null][(h >>> 11) % 3],
          code: ['DE', 'NO', 'XX', null][(h >>> 13) % 4],
        };
      }),
      ...(u % 4 === 0 ? {} : { people: [{ age: 20 + (u % 50) }, { age: 21 + (u % 3) }] }),
    };
  }
  t.store.insert(ORG, users);
});
afterAll(() => t.close());

const QUERIES = [
  'SELECT city, count(DISTINCT user) FROM visits GROUP BY city',
  'SELECT amount, count(DISTINCT user) FROM visits GROUP BY amount',
  'SELECT big, paid, count(DISTINCT user) FROM visits GROUP BY big, paid',
  'SELECT paid, city, amount, count(DISTINCT user) FROM visits GROUP BY paid, city, amount',
  `SELECT lookup('names', code) AS country, floor(amount / 3) * 3 AS a, count(DISTINCT user)
   FROM visits WHERE amount > 0 GROUP BY country, a`,
  `SELECT age, city, count(DISTINCT user) FROM visits JOIN people USING (user)
   WHERE city IS NOT NULL GROUP BY age, city`,
  `SELECT CASE WHEN amount > 50 THEN 'high' WHEN amount IS NULL THEN NULL ELSE city END AS c,
   count(DISTINCT user) FROM visits GROUP BY c`,
];

describe('the two shapes of a sql task’s rows', () => {
  for (const text of QUERIES) {
    it(`agree on every user's groups, their order and the limits: ${text.slice(0, 60)}`, () => {
      const query = parseSqlTask(text);
      const scope = sqlScope(t.db, ORG);
      const perUser = compileSqlTask(query, scope, undefined, SQLITE_FLAVOR);
      const perGroup = compileSqlTask(query, scope, undefined, {
        ...SQLITE_FLAVOR,
        groupsAsJson: false,
      });
      expect([perUser.rows, perGroup.rows]).toEqual(['user', 'group']);
      const read = (sql: string, params: unknown[]) =>
        t.db
          .prepare(sql)
          .raw(true)
          .all(...params) as unknown[][];
      for (const limits of [LIMITS, SMALL]) {
        const expected = [...groupsByUser(read(perGroup.sql, perGroup.params), perGroup, limits)];
        const actual = [
          ...groupsOfUsers(
            read(perUser.sql, perUser.params) as Array<[string, string]>,
            perUser,
            limits,
          ),
        ];
        expect(expected.length).toBeGreaterThan(10);
        expect(actual).toEqual(expected);
      }
    });
  }
});

describe('the SQL a sql task compiles to', () => {
  it('grows with nesting as the query does, not twice per level', () => {
    const nested = (depth: number) =>
      `${'extract(year FROM '.repeat(depth)}amount${')'.repeat(depth)}`;
    const sqlOf = (depth: number) =>
      compileSqlTask(
        parseSqlTask(`SELECT ${nested(depth)} AS y, count(DISTINCT user) FROM visits GROUP BY y`),
        sqlScope(t.db, ORG),
      ).sql.length;
    const [one, twelve] = [sqlOf(1), sqlOf(12)];
    expect(twelve).toBeLessThan(one * 12);
  });

  it('writes the subject of a simple CASE once, however many WHENs and nested CASEs', () => {
    const whens = Array.from({ length: 100 }, (_, i) => `WHEN ${i} THEN ${i}`).join(' ');
    const nested = (depth: number): string =>
      depth === 0 ? 'amount' : `CASE ${nested(depth - 1)} ${whens} END`;
    const sqlOf = (depth: number) =>
      compileSqlTask(
        parseSqlTask(`SELECT ${nested(depth)} AS c, count(DISTINCT user) FROM visits GROUP BY c`),
        sqlScope(t.db, ORG),
      ).sql.length;
    expect(sqlOf(3)).toBeLessThan(sqlOf(1) * 4);
  });
});

describe('a user whose groups are too long for one JSON text', () => {
  const user = (userId: string): SqlUserGroups => ({
    userId,
    ok: true,
    properties: [['v', userId]],
  });
  const all = ['a', 'b', 'c', 'd', 'e'].map(user);
  function* failingAfter(given: number, error: Error) {
    yield* all.slice(0, given);
    throw error;
  }
  const tooBig = () =>
    Object.assign(new Error('string or blob too big'), { code: 'SQLITE_TOOBIG' });

  it.each([0, 1, 3])(
    'has the rest read one row per group, after the %i users already given',
    (given) => {
      const read = [
        ...withRowsFallback(
          () => failingAfter(given, tooBig()),
          () => all,
        ),
      ];
      expect(read.map((u) => u.userId)).toEqual(['a', 'b', 'c', 'd', 'e']);
    },
  );

  it('does not hide any other error', () => {
    const other = new Error('disk I/O error');
    expect(() => [
      ...withRowsFallback(
        () => failingAfter(2, other),
        () => all,
      ),
    ]).toThrow(other);
  });

  it('reads one row per user only, when nothing fails', () => {
    let fallbackRead = false;
    const read = [
      ...withRowsFallback(
        () => all,
        () => {
          fallbackRead = true;
          return all;
        },
      ),
    ];
    expect(read).toEqual(all);
    expect(fallbackRead).toBe(false);
  });
});
