// Spellings PostgreSQL takes for one GROUP BY (positions, qualified columns, USER) compile to the same groups.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSqlTask } from '../sql-task/parse-sql-task.ts';
import { compileSqlTask } from './sql-compile.ts';
import { groupsOfUsers, sqlScope, type GroupLimits } from './sql-groups.ts';
import { appError, openTestStore, type TestStore } from './test-support.ts';

const ORG = 'org-spellings';
const LIMITS: GroupLimits = { maxProperties: 10_000, maxTextLength: 1000 };

let t: TestStore;

beforeAll(async () => {
  t = await openTestStore();
  t.store.createTable(ORG, {
    name: 'people',
    columns: [
      { name: 'city', type: 'text' },
      { name: 'age', type: 'integer' },
    ],
  });
  t.store.createTable(ORG, {
    name: 'visits',
    columns: [
      { name: 'city', type: 'text' },
      { name: 'duration', type: 'integer' },
    ],
  });
  const users: Record<string, unknown> = {};
  for (let u = 0; u < 40; u++) {
    users[`u${u}`] = {
      people: [{ city: ['Berlin', 'Oslo', null][u % 3], age: 18 + ((u * 7) % 50) }],
      visits: Array.from({ length: 1 + (u % 3) }, (_, i) => ({
        city: ['Paris', 'Rome', 'Oslo'][(u + i) % 3],
        duration: (u * 13 + i * 5) % 60,
      })),
    };
  }
  t.store.insert(ORG, users);
});
afterAll(() => t.close());

function compiled(sql: string) {
  return compileSqlTask(parseSqlTask(sql), sqlScope(t.db, ORG));
}

/** Each user's groups, as the run reads them. */
function groups(sql: string): unknown[] {
  const task = compiled(sql);
  const rows = t.db
    .prepare(task.sql)
    .raw(true)
    .all(...task.params) as Array<[string, string]>;
  return [...groupsOfUsers(rows, task, LIMITS)];
}

/** A plain query and spellings of it that must compile to the same SQL, label and groups. */
const SPELLINGS: Array<[plain: string, ...others: string[]]> = [
  [
    'SELECT city, count(DISTINCT user) FROM people GROUP BY city',
    'SELECT count(DISTINCT user), city FROM people GROUP BY 2',
    'SELECT city, count(DISTINCT user) FROM people GROUP BY people.city',
    'SELECT city, count(DISTINCT user) FROM people AS p GROUP BY p.city',
    'SELECT city, COUNT(DISTINCT USER) FROM people GROUP BY city',
    'SELECT city, count(DISTINCT User) FROM people GROUP BY 1',
  ],
  [
    'SELECT city, age, count(DISTINCT user) FROM people GROUP BY city, age',
    'SELECT city, count(DISTINCT user), age FROM people GROUP BY 1, 3',
    'SELECT city, count(DISTINCT user), age FROM people p GROUP BY p.age, 1',
  ],
  [
    `SELECT duration, floor(age / 10) AS decade, count(DISTINCT user)
     FROM visits JOIN people USING (user) GROUP BY duration, decade`,
    `SELECT duration, floor(age / 10) AS decade, count(DISTINCT USER)
     FROM visits JOIN people USING (USER) GROUP BY visits.duration, floor(people.age / 10)`,
    `SELECT count(DISTINCT user), duration, floor(age / 10) AS decade
     FROM visits v JOIN people USING (user) GROUP BY v.duration, 3`,
  ],
];

describe('GROUP BY spelled as PostgreSQL allows', () => {
  for (const [plain, ...others] of SPELLINGS) {
    it(`compiles to the same groups as ${plain.replace(/\s+/g, ' ').slice(0, 60)}`, () => {
      const expected = compiled(plain);
      const read = groups(plain);
      expect(read.length).toBeGreaterThan(30);
      for (const other of others) {
        expect(compiled(other), other).toEqual(expected);
        expect(groups(other), other).toEqual(read);
      }
    });
  }

  it('refuses a qualifier that names no table of the query, naming it', () => {
    const detail = (sql: string) => appError(() => compiled(sql), 'INVALID_SQL_TASK').message;
    expect(detail('SELECT city, count(DISTINCT user) FROM people AS p GROUP BY x.city')).toMatch(
      /line 1, column 61: "x" is not a table of this query \(p\)/,
    );
    // As in PostgreSQL, an alias replaces the table's name.
    expect(
      detail('SELECT city, count(DISTINCT user) FROM people AS p GROUP BY people.city'),
    ).toMatch(/line 1, column 61: the table "people" is named p in this query; write p\.city\./);
    expect(
      detail(
        'SELECT visits.city, count(DISTINCT user) FROM visits JOIN people USING (user) GROUP BY people.city',
      ),
    ).toMatch(
      /GROUP BY people\.city is another column than the selected visits\.city; group by what is selected\./,
    );
    expect(
      detail(
        'SELECT duration, count(DISTINCT user) FROM visits JOIN people USING (user) GROUP BY people.duration',
      ),
    ).toMatch(/"people" has no column "duration" \(columns: city, age\)/);
  });
});
