// GROUP BY as PostgreSQL reads it: positions in the SELECT list, qualified columns, USER in any case.
import { describe, expect, it } from 'vitest';
import { parseSqlTask } from './parse-sql-task.ts';
import { refusalDetail as refusal } from './test-support.ts';

const names = (sql: string) => parseSqlTask(sql).groups.map((g) => g.name);

describe('GROUP BY <position>', () => {
  it('counts the items of the SELECT list from 1, count(DISTINCT user) among them', () => {
    // Once refused ("a position must be between 1 and 1"), while GROUP BY 1 meant city.
    expect(names('SELECT count(DISTINCT user), city FROM people GROUP BY 2')).toEqual(['city']);
    // Once refused, while GROUP BY 1, 2 was taken for city, age.
    expect(names('SELECT city, count(DISTINCT user), age FROM people GROUP BY 1, 3')).toEqual([
      'city',
      'age',
    ]);
    expect(names('SELECT city, age, count(DISTINCT user) FROM people GROUP BY 2, 1')).toEqual([
      'city',
      'age',
    ]);
  });

  it('refuses the position of count(DISTINCT user): an aggregate cannot be grouped by', () => {
    expect(refusal('SELECT count(DISTINCT user), city FROM people GROUP BY 1')).toBe(
      'line 1, column 56: GROUP BY 1 is count(DISTINCT user), an aggregate, which cannot be grouped by; group by the group expressions (2).',
    );
    expect(refusal('SELECT city, count(DISTINCT user), age FROM people GROUP BY 1, 2')).toMatch(
      /^line 1, column 64: GROUP BY 2 is count\(DISTINCT user\), an aggregate.*\(1, 3\)\.$/,
    );
  });

  it('refuses a position outside the SELECT list, giving its range', () => {
    expect(refusal('SELECT city, count(DISTINCT user) FROM people GROUP BY 3')).toBe(
      'line 1, column 56: GROUP BY 3: a position counts the items of the SELECT list from 1, so it is between 1 and 2 here.',
    );
    expect(refusal('SELECT city, count(DISTINCT user) FROM people GROUP BY 0')).toMatch(
      /between 1 and 2 here/,
    );
  });
});

describe('GROUP BY a qualified column', () => {
  it('takes it as the selected expression, for the compiler to check the qualifier', () => {
    // Once "GROUP BY city is not in the SELECT list; select it as well".
    for (const sql of [
      'SELECT city, count(DISTINCT user) FROM people GROUP BY people.city',
      'SELECT city, count(DISTINCT user) FROM people AS p GROUP BY p.city',
      'SELECT floor(age / 10) AS a, count(DISTINCT user) FROM people p GROUP BY floor(p.age / 10)',
    ]) {
      const [group] = parseSqlTask(sql).groups;
      expect(group!.qualifiedAs, sql).toHaveLength(1);
    }
    const exact = parseSqlTask('SELECT p.city, count(DISTINCT user) FROM people p GROUP BY p.city');
    expect(exact.groups[0]!.qualifiedAs).toEqual([]);
  });

  it('still refuses a qualified column that is not selected', () => {
    expect(
      refusal('SELECT city, count(DISTINCT user) FROM people p GROUP BY p.city, p.age'),
    ).toMatch(/GROUP BY p\.age is not in the SELECT list/);
  });
});

describe('the user in upper or mixed case', () => {
  it('is the user, as SQL folds unquoted names', () => {
    // Once "count(DISTINCT USER) is not supported; the one aggregate is count(DISTINCT user)".
    for (const sql of [
      'SELECT city, COUNT(DISTINCT USER) FROM people GROUP BY city',
      'SELECT city, count(DISTINCT User) AS n FROM people JOIN visits USING (USER) GROUP BY city',
    ]) {
      expect(names(sql)).toEqual(['city']);
    }
    expect(
      refusal('SELECT city, count(DISTINCT user) FROM people WHERE USER = 1 GROUP BY city'),
    ).toMatch(/^line 1, column 53: "user" is the user/);
  });

  it('is not a quoted "USER", which is another name', () => {
    expect(refusal('SELECT city, count(DISTINCT "USER") FROM people GROUP BY city')).toMatch(
      /count\(DISTINCT USER\) is not supported/,
    );
  });
});
