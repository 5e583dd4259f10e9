import { describe, expect, it } from 'vitest';
import { MAX_CASE_BRANCHES, MAX_IN_VALUES, MAX_NESTING, parseSqlTask } from './parse-sql-task.ts';
import { refusal } from './test-support.ts';

describe('parsing a sql task', () => {
  it('places refusals by keywords written outside string constants', () => {
    // 'from public.visits' in a string came first: the position pointed into the string.
    const sql = `SELECT CASE WHEN city = 'from public.visits' THEN 'a' ELSE 'b' END AS x,
      count(DISTINCT user) FROM public.visits GROUP BY x`;
    const column = sql.length - sql.lastIndexOf('\n') - ' GROUP BY x'.length - 'visits'.length;
    expect(refusal(sql)).toContain(`line 2, column ${column}: "public.visits"`);
  });

  it('reads groups with their names, the joined tables and the condition', () => {
    const query = parseSqlTask(
      `SELECT city, floor(age / 10) * 10 AS age_bracket, extract(dow FROM time), count(DISTINCT user)
       FROM visits v JOIN people USING (user)
       WHERE amount > 100 AND city IN ('Berlin', 'it''s') AND NOT (age BETWEEN 1 AND 2) OR paid IS NULL
       GROUP BY 1, age_bracket, extract(dow FROM time)`,
    );
    expect(query.groups.map((g) => g.name)).toEqual([
      'city',
      'age_bracket',
      'extract(dow FROM time)',
    ]);
    expect(query.tables.map((t) => [t.table, t.alias])).toEqual([
      ['visits', 'v'],
      ['people', 'people'],
    ]);
    expect(query.where?.kind).toBe('or');
    expect(JSON.stringify(query.where)).toContain('"value":"it\'s"');
  });

  it('reads parenthesized ORs inside AND, and ANDs inside OR, as written', () => {
    const where = (condition: string) =>
      parseSqlTask(`SELECT count(DISTINCT user) FROM t WHERE ${condition}`).where;
    // Once refused as nesting "more than 16 deep": a parenthesized chain was split as one term.
    expect(where("(city = 'a' OR age = 1) AND paid")).toMatchObject({
      kind: 'and',
      left: { kind: 'or', left: { kind: 'compare' }, right: { kind: 'compare' } },
      right: { kind: 'truth' },
    });
    expect(where("((city = 'a' OR age = 1)) AND (age > 2 AND age < 9)")).toMatchObject({
      kind: 'and',
      left: { kind: 'or' },
      right: { kind: 'and' },
    });
    expect(where("city = 'a' OR (age = 1 AND NOT (paid OR age IS NULL))")).toMatchObject({
      kind: 'or',
      right: { kind: 'and', right: { kind: 'not', arg: { kind: 'or' } } },
    });
  });

  it('reads a LIKE pattern into text and wildcards, with its own escape character', () => {
    const where = (condition: string) =>
      parseSqlTask(`SELECT count(DISTINCT user) FROM t WHERE ${condition}`).where;
    expect(where("city LIKE 'B%%e_''s'")).toMatchObject({
      kind: 'like',
      negated: false,
      pattern: [
        { kind: 'text', text: 'B' },
        { kind: 'any' },
        { kind: 'text', text: 'e' },
        { kind: 'one' },
        { kind: 'text', text: "'s" },
      ],
    });
    expect(where("code NOT LIKE '100#%#_x%' ESCAPE '#'")).toMatchObject({
      kind: 'like',
      negated: true,
      pattern: [{ kind: 'text', text: '100%_x' }, { kind: 'any' }],
    });
  });

  it('puts a constant written first on the right, and reads numbers with an exponent', () => {
    const where = (condition: string) =>
      parseSqlTask(`SELECT count(DISTINCT user) FROM t WHERE ${condition}`).where;
    expect(where('18 <= age AND -1 > x')).toMatchObject({
      kind: 'and',
      left: { kind: 'compare', op: '>=', left: { name: 'age' }, right: { value: 18 } },
      right: { kind: 'compare', op: '<', left: { name: 'x' }, right: { value: -1 } },
    });
    expect(where('paid IS NOT TRUE')).toMatchObject({
      kind: 'is-bool',
      negated: true,
      value: true,
    });
    expect(refusal('SELECT count(DISTINCT user) FROM t WHERE paid IS 3')).toMatch(
      /IS is supported as IS NULL, IS TRUE and IS FALSE/,
    );
    expect(where('amount > 1.5e3')).toMatchObject({ right: { kind: 'number', value: 1500 } });
    expect(where('amount > 2E-3')).toMatchObject({ right: { kind: 'number', value: 0.002 } });
    expect(where('big = 9007199254740991')).toMatchObject({
      right: { value: 9007199254740991 },
    });
    expect(refusal('SELECT count(DISTINCT user) FROM t WHERE big = 9007199254740993')).toMatch(
      /column 48: the integer 9007199254740993 is beyond 9007199254740991/,
    );
    expect(refusal('SELECT count(DISTINCT user) FROM t WHERE x < 1e400')).toMatch(
      /the number 1e400 is not a finite number/,
    );
  });

  it('takes a query without groups as one bucket named by the count', () => {
    const query = parseSqlTask(
      'SELECT count(DISTINCT user) AS big FROM purchases WHERE amount > 1',
    );
    expect(query.groups).toEqual([]);
    expect(query.countName).toBe('big');
  });

  it('reads CASE in both forms, with its conditions, results and where it starts', () => {
    const query = parseSqlTask(
      `SELECT city,
         CASE WHEN amount > 100 THEN 'big' WHEN amount IS NULL THEN NULL ELSE 'small' END,
         CASE city WHEN 'Berlin' THEN 1 WHEN 'Paris' THEN 2 END AS code, count(DISTINCT user)
       FROM visits GROUP BY 1, 2, 3`,
    );
    expect(query.groups.map((g) => g.name)).toEqual(['city', 'case', 'code']);
    const [, searched, simple] = query.groups.map((g) => g.expr);
    expect(searched).toMatchObject({
      kind: 'case',
      at: { line: 2, column: 10 },
      branches: [
        { when: { kind: 'compare', op: '>' }, then: { kind: 'string', value: 'big' } },
        { when: { kind: 'is-null', negated: false }, then: { kind: 'null' } },
      ],
      otherwise: { kind: 'string', value: 'small' },
    });
    // The simple form keeps its subject once, beside each WHEN's constant; no ELSE is NULL.
    expect(simple).toMatchObject({
      kind: 'simple-case',
      at: { line: 3, column: 10 },
      subject: { kind: 'column', name: 'city' },
      branches: [
        { value: { value: 'Berlin' }, then: { kind: 'number', value: 1 } },
        { value: { value: 'Paris' }, then: { kind: 'number', value: 2 } },
      ],
      otherwise: { kind: 'null' },
    });
    // Without an alias, either form is named "case".
    const unnamed = parseSqlTask(
      "SELECT CASE city WHEN 'a' THEN 1 END, count(DISTINCT user) FROM visits GROUP BY 1",
    );
    expect(unnamed.groups.map((g) => g.name)).toEqual(['case']);
  });

  it.each([
    ['SELECT city, count(*) FROM visits GROUP BY city', /line 1, column 14: .*count\(\*\)/],
    [
      "SELECT CASE WHEN 1 = 1 THEN 'x' END AS c, count(DISTINCT user) FROM visits GROUP BY c",
      /line 1, column 8: a group expression needs a column/,
    ],
    [
      "SELECT city, CASE WHEN amount > 1 THEN user ELSE 'x' END AS c, count(DISTINCT user) FROM visits GROUP BY 1, 2",
      /"user" is the user/,
    ],
    [
      'SELECT CASE city WHEN NULL THEN 1 END AS c, count(DISTINCT user) FROM visits GROUP BY c',
      /WHEN NULL never matches/,
    ],
    [
      "SELECT CASE WHEN city ~ 'B' THEN 1 END AS c, count(DISTINCT user) FROM visits GROUP BY c",
      /line 1, column 18: the operator ~ is not supported/,
    ],
    ['SELECT city, sum(amount) FROM visits GROUP BY city', /line 1, column 14: .*sum\(amount\)/],
    ['SELECT city FROM visits GROUP BY city', /count\(DISTINCT user\)/],
    [
      'SELECT count(DISTINCT user) FROM visits; DROP TABLE visits',
      /line 1, column 40: .*one SELECT/,
    ],
    ['DELETE FROM visits', /DELETE statements are not allowed/],
    [
      'SELECT city, count(DISTINCT user) FROM visits GROUP BY city HAVING count(DISTINCT user) > 5',
      /column 61: HAVING/,
    ],
    [
      'SELECT city, count(DISTINCT user) FROM visits GROUP BY city ORDER BY city',
      // The anonymizer's order: anonymize.noiseless.test.ts, "orders buckets by label, then count descending".
      /column 61: ORDER BY is not supported; remove it: buckets are published sorted by label, then by their published count \(largest first\), then by value\./,
    ],
    ['SELECT city, count(DISTINCT user) FROM visits GROUP BY city LIMIT 3', /LIMIT/],
    [
      'SELECT user, count(DISTINCT user) FROM visits GROUP BY user',
      /line 1, column 8: "user" is the user/,
    ],
    [
      "SELECT city, count(DISTINCT user) FROM visits WHERE user = 'u1' GROUP BY city",
      /column 53: "user" is the user/,
    ],
    [
      'SELECT city, count(DISTINCT user) FROM visits LEFT JOIN people USING (user) GROUP BY city',
      /LEFT JOIN is not supported/,
    ],
    [
      'SELECT city, count(DISTINCT user) FROM visits JOIN people ON visits.x = people.x GROUP BY city',
      /USING \(user\)/,
    ],
    ['SELECT city, count(DISTINCT user) FROM visits, people GROUP BY city', /comma join/],
    ['SELECT city, count(DISTINCT user) FROM other.visits GROUP BY city', /without a schema/],
    ['SELECT city, count(DISTINCT user) FROM (SELECT * FROM visits) GROUP BY city', /.*/],
    [
      'SELECT city, count(DISTINCT user) FROM visits WHERE city IN (SELECT city FROM people) GROUP BY city',
      /not supported/,
    ],
    ['SELECT city, count(DISTINCT user) FROM visits WHERE city = NULL GROUP BY city', /IS NULL/],
    [
      "SELECT city, count(DISTINCT user) FROM visits WHERE city SIMILAR TO 'B%' GROUP BY city",
      /column 53: the operator SIMILAR TO is not supported/,
    ],
    [
      "SELECT city, count(DISTINCT user) FROM visits WHERE city ILIKE 'b%' GROUP BY city",
      /ILIKE is not supported: its case folding differs/,
    ],
    ['SELECT count(DISTINCT user) FROM visits WHERE city LIKE 3', /LIKE takes a string pattern/],
    [
      "SELECT count(DISTINCT user) FROM visits WHERE city LIKE 'a!%' ESCAPE '!!'",
      /ESCAPE takes one character/,
    ],
    [
      "SELECT count(DISTINCT user) FROM visits WHERE city LIKE 'a!' ESCAPE '!'",
      /the LIKE pattern ends with its escape character !/,
    ],
    [
      `SELECT count(DISTINCT user) FROM visits WHERE city LIKE '${'a'.repeat(1001)}'`,
      /the LIKE pattern has 1001 characters; at most 1000/,
    ],
    [
      'SELECT upper(city), count(DISTINCT user) FROM visits GROUP BY 1',
      /line 1, column 8: the function upper/,
    ],
    [
      'SELECT city, count(DISTINCT user) FROM visits GROUP BY city, age',
      /line 1, column 62: GROUP BY age is not in the SELECT list/,
    ],
    [
      'SELECT city, age, count(DISTINCT user) FROM visits GROUP BY city',
      /"age" is selected but not in GROUP BY/,
    ],
    ['SELECT city AS "a: b", count(DISTINCT user) FROM visits GROUP BY 1', /contains ": "/],
    [
      'SELECT extract(week FROM t), count(DISTINCT user) FROM visits GROUP BY 1',
      /extract\(week FROM \.\.\.\) is not supported/,
    ],
    [
      'SELECT city, count(DISTINCT user) FROM visits WHERE',
      /line 1, column 52: syntax error: unexpected the end/,
    ],
    [
      'SELECT city, count(DISTINCT user)\nFROM visits\nWHERE city = = 3 GROUP BY city',
      /line 3, column 14: syntax error: unexpected "="/,
    ],
    ['SELECT 3, count(DISTINCT user) FROM visits GROUP BY 1', /needs a column/],
    [
      'SELECT city, count(DISTINCT user) FROM visits GROUP BY 2',
      /line 1, column 56: GROUP BY 2 is count\(DISTINCT user\), an aggregate, which cannot be grouped by/,
    ],
  ])('refuses %s', (sql, message) => {
    expect(refusal(sql)).toMatch(message);
  });

  it('refuses deep nesting and long IN lists before they cost anything', () => {
    const deep = `SELECT count(DISTINCT user) FROM t WHERE ${'('.repeat(MAX_NESTING + 1)}a = 1${')'.repeat(MAX_NESTING + 1)}`;
    expect(refusal(deep)).toMatch(/parentheses nest more than/);
    const list = Array.from({ length: MAX_IN_VALUES + 1 }, (_, i) => i).join(', ');
    expect(refusal(`SELECT count(DISTINCT user) FROM t WHERE a IN (${list})`)).toMatch(
      /at most 1000 are allowed/,
    );
    expect(
      refusal(`SELECT count(DISTINCT user) FROM t WHERE ${'a = 1 OR '.repeat(3000)}a = 1`),
    ).toMatch(/at most 20000/);
    const whens = (n: number) =>
      Array.from({ length: n }, (_, i) => `WHEN age = ${i} THEN ${i}`).join(' ');
    const mapping = (n: number) =>
      `SELECT CASE ${whens(n)} END AS c, count(DISTINCT user) FROM t GROUP BY c`;
    expect(parseSqlTask(mapping(MAX_CASE_BRANCHES)).groups).toHaveLength(1);
    expect(refusal(mapping(MAX_CASE_BRANCHES + 1))).toMatch(
      /line 1, column 8: the CASE has 101 WHEN branches; at most 100/,
    );
  });

  it('gives up on a parse that backtracks too long, well before it would stall the cloak', () => {
    const nested = (n: number) =>
      `SELECT count(DISTINCT user) FROM t WHERE NOT (${'('.repeat(n)}NOT (floor(-age / -5) * -5 LIKE -secrets.pin + extract(x FROM -user))${')'.repeat(n)})`;
    // 11 + 4 levels: within the nesting cap, and minutes of backtracking without the watchdog.
    expect(refusal(nested(MAX_NESTING - 5))).toMatch(/took more than 1 s to parse/);
  });

  it('takes a long chain of AND and OR without counting it as nesting', () => {
    const chain = Array.from({ length: 200 }, (_, i) => `a = ${i}`).join(' OR ');
    expect(parseSqlTask(`SELECT count(DISTINCT user) FROM t WHERE ${chain}`).where?.kind).toBe(
      'or',
    );
  });
});
