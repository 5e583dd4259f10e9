// Subqueries and parameters are refused by name, where they start in the query.
import { describe, expect, it } from 'vitest';
import { refusalDetail as refusal } from './test-support.ts';

/** Where `needle` starts in `sql`, as the messages count: "line 1, column C". */
function at(sql: string, needle: string, from = 0): string {
  return `line 1, column ${sql.indexOf(needle, from) + 1}`;
}

describe('a refused subquery or parameter', () => {
  it('is named a subquery, at its opening parenthesis, wherever it stands', () => {
    // Once "column 56: a this construct is not supported here", at the IN's left side.
    const inList =
      'SELECT city, count(DISTINCT user) FROM purchases WHERE amount IN (SELECT amount FROM purchases) GROUP BY city';
    expect(refusal(inList)).toMatch(
      new RegExp(
        `^${at(inList, '(SELECT')}: a subquery is not supported: a sql task is one SELECT`,
      ),
    );
    // Once "column 1: a this construct ...".
    const selected = 'SELECT (SELECT 1) AS x, count(DISTINCT user) FROM t GROUP BY x';
    expect(refusal(selected)).toMatch(new RegExp(`^${at(selected, '(SELECT')}: a subquery is not`));
    const compared = 'SELECT count(DISTINCT user) FROM t WHERE amount > ((SELECT 1))';
    expect(refusal(compared)).toMatch(new RegExp(`^${at(compared, '(SELECT')}: a subquery is not`));
    const inFrom = 'SELECT count(DISTINCT user) FROM visits JOIN (SELECT 1) USING (user)';
    expect(refusal(inFrom)).toMatch(
      new RegExp(`^${at(inFrom, '(SELECT')}: a subquery in FROM is not supported`),
    );
  });

  it('is not looked for in strings and comments before it', () => {
    const sql =
      "SELECT count(DISTINCT user) FROM t WHERE note = '(select' OR /* (select */ amount IN (SELECT 1)";
    expect(refusal(sql)).toMatch(new RegExp(`^${at(sql, '(SELECT')}: a subquery is not`));
  });

  it('reads EXISTS, NOT EXISTS and ANY as tests of a subquery, not as functions', () => {
    // Once "the function exists(...) with 1 argument is not supported".
    const exists =
      'SELECT city, count(DISTINCT user) FROM t WHERE EXISTS (SELECT 1 FROM u) GROUP BY city';
    expect(refusal(exists)).toMatch(
      new RegExp(`^${at(exists, 'EXISTS')}: EXISTS \\(a subquery\\) is not supported: a sql task`),
    );
    const notExists = 'SELECT count(DISTINCT user) FROM t WHERE NOT EXISTS (SELECT 1)';
    expect(refusal(notExists)).toMatch(
      new RegExp(`^${at(notExists, 'NOT')}: NOT EXISTS \\(a subquery\\) is not supported`),
    );
    const any = 'SELECT count(DISTINCT user) FROM t WHERE x = ANY (SELECT 1)';
    expect(refusal(any)).toMatch(new RegExp(`^${at(any, 'ANY')}: ANY \\(a subquery\\) is not`));
  });

  it('is named a parameter, with its own spelling and place', () => {
    // Once "a var is not supported here".
    const dollar = "SELECT count(DISTINCT user) FROM t WHERE note = '$1' OR amount > $1";
    expect(refusal(dollar)).toMatch(
      new RegExp(
        `^${at(dollar, '$1', 50)}: a parameter \\(\\$1\\) is not supported: write the constant itself`,
      ),
    );
    const named = 'SELECT $12 AS a, count(DISTINCT user) FROM t GROUP BY a';
    expect(refusal(named)).toMatch(/^line 1, column 8: a parameter \(\$12\) is not supported/);
    expect(refusal('SELECT count(DISTINCT user) FROM t WHERE x = :limit')).toMatch(
      /^line 1, column 46: a parameter \(:limit\) is not supported/,
    );
  });

  it('without a position from the parser, says so and where it lies, with the right article', () => {
    // Once "line 1, column 42: a array ...", pointing at x, the comparison's other side.
    expect(refusal('SELECT count(DISTINCT user) FROM t WHERE x = ARRAY[1]')).toBe(
      'an array is not supported here. It lies inside what starts at line 1, column 42 (the parser gives no closer position).',
    );
    expect(refusal('SELECT count(DISTINCT user) FROM t WHERE x = y::int')).toMatch(
      /^a cast is not supported here\. It lies inside what starts at line 1, column 42/,
    );
    expect(refusal('SELECT count(DISTINCT user) FROM t WHERE x = (1, 2)')).toMatch(
      /^a list of values is not supported here\./,
    );
  });
});
