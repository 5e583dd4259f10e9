// 10,000+ generated and malformed sql tasks: no crash, no raw SQLite error, no other organisation's table touched.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, type TestStore } from '../../src/cloak/data/test-support.ts';
import { parseSqlTask } from '../../src/cloak/sql-task/parse-sql-task.ts';
import { AppError } from '../../src/errors/index.ts';

const MINE = 'mine';
const OTHER = 'other';
const LIMITS = { maxProperties: 10_000, maxTextLength: 1000 };
/** Fixed seeds: a failure names its query and reproduces; new seeds are for a fuzzing session. */
const SEED = 18;

// Names and constants a query is built from: the organisation's own, the other organisation's,
// the store's internals, and injection attempts.
const TABLES = [
  'visits',
  'people',
  'secrets',
  'Visits',
  '"visits"',
  'data_rows_1',
  'data_rows_3',
  'data_tables',
  'data_lookup_entries',
  'sqlite_master',
  'sqlite_schema',
  'main.visits',
  'temp.visits',
  '"visits; DROP TABLE visits"',
  "pragma_table_info('visits')",
  "json_each('[1]')",
  '(SELECT * FROM secrets)',
  'visits AS v',
  'people p',
];
const COLUMNS = [
  'city',
  'amount',
  'age',
  'paid',
  't',
  'name',
  'pin',
  'user',
  'visits.city',
  'people.age',
  'secrets.pin',
  'v.city',
  'p.age',
  'ac_user_id',
  'ac_seq',
  'rowid',
  '_rowid_',
  '"city"',
  '"ci""ty"',
  'CITY',
  'sqlite_master.sql',
  'data_rows_1.pin',
  '"; DROP TABLE visits; --"',
];
const CONSTANTS = [
  '0',
  '-1',
  '1e308',
  '1e400',
  '0.5',
  '9007199254740993',
  "'x'",
  "'it''s'",
  "''",
  "'; DROP TABLE visits; --'",
  "'\\'",
  'TRUE',
  'FALSE',
  'NULL',
  '$1',
  '?',
  ':name',
  "X'00'",
  "'Berlin'",
  '100',
  "'DE'",
];
const FUNCTIONS = [
  'floor',
  'ceil',
  'upper',
  'load_extension',
  'readfile',
  'random',
  'abs',
  'sqlite_version',
  'hex',
  'length',
  'lookup',
  'extract',
  'count',
  'sum',
  'avg',
];
const PARTS = ['year', 'month', 'dow', 'isodow', 'doy', 'hour', 'week', 'epoch', 'x'];
const OPS = ['=', '<>', '!=', '<', '<=', '>', '>=', 'LIKE', '||', '==', 'IS', 'GLOB'];

const pick = <T>(items: readonly T[]) => fc.constantFrom(...items);

/** Columns with a constant of their type. */
const TYPED: ReadonlyArray<readonly [string, string]> = [
  ['city', "'Berlin'"],
  ['amount', '100'],
  ['age', '30'],
  ['paid', 'TRUE'],
  ['t', '0'],
];

const value: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    pick(COLUMNS),
    pick(CONSTANTS),
    fc.tuple(tie('value'), pick([1, 10, 0, 2.5, -5])).map(([e, w]) => `floor(${e} / ${w}) * ${w}`),
    fc.tuple(pick(PARTS), tie('value')).map(([p, e]) => `extract(${p} FROM ${e})`),
    fc
      .tuple(pick(["'countries'", "'other_lookup'", 'city', "'x'"]), tie('value'))
      .map(([t, e]) => `lookup(${t}, ${e})`),
    fc
      .tuple(pick(FUNCTIONS), fc.array(tie('value'), { maxLength: 3 }))
      .map(([f, args]) => `${f}(${args.join(', ')})`),
    fc
      .tuple(tie('value'), pick(['+', '-', '*', '/', '||', '%']), tie('value'))
      .map(([a, op, b]) => `${a} ${op} ${b}`),
    tie('value').map((e) => `-${e}`),
    fc
      .tuple(pick(COLUMNS), pick(OPS), pick(CONSTANTS), tie('value'), fc.option(tie('value')))
      .map(
        ([c, op, k, then, otherwise]) =>
          `CASE WHEN ${c} ${op} ${k} THEN ${then}${otherwise === null ? '' : ` ELSE ${otherwise}`} END`,
      ),
    fc
      .tuple(tie('value'), pick(CONSTANTS), tie('value'))
      .map(([subject, k, then]) => `CASE ${subject} WHEN ${k} THEN ${then} END`),
    fc.tuple(pick(COLUMNS), tie('value')).map(([c, e]) => `CASE WHEN ${c} THEN ${e}`),
    // Well-typed ones too, so that many compile and run.
    fc
      .tuple(pick(TYPED), pick(['=', '<', '>=', '<>']), pick(TYPED), fc.boolean())
      .map(
        ([[c, k], op, [then], otherwise]) =>
          `CASE WHEN ${c} ${op} ${k} THEN ${then}${otherwise ? ` ELSE ${then}` : ''} END`,
      ),
    tie('value').map((e) => `CAST(${e} AS int)`),
    tie('value').map((e) => `(SELECT pin FROM secrets WHERE ${e} = 1)`),
  ),
})).value;

const condition: fc.Arbitrary<string> = fc.letrec<{ cond: string }>((tie) => ({
  cond: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(value, pick(OPS), value).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(pick(COLUMNS), pick(OPS), pick(CONSTANTS)).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc
      .tuple(pick(COLUMNS), fc.array(pick(CONSTANTS), { minLength: 0, maxLength: 6 }))
      .map(([c, list]) => `${c} IN (${list.join(', ')})`),
    fc
      .tuple(pick(COLUMNS), fc.integer({ min: 900, max: 1500 }))
      .map(([c, n]) => `${c} NOT IN (${Array.from({ length: n }, (_, i) => i).join(', ')})`),
    fc
      .tuple(pick(COLUMNS), pick(CONSTANTS), pick(CONSTANTS))
      .map(([c, a, b]) => `${c} BETWEEN ${a} AND ${b}`),
    pick(COLUMNS).map((c) => `${c} IS NOT NULL`),
    tie('cond').map((c) => `NOT (${c})`),
    fc.tuple(tie('cond'), pick(['AND', 'OR']), tie('cond')).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc
      .tuple(tie('cond'), fc.integer({ min: 1, max: 120 }))
      .map(([c, n]) => `${'('.repeat(n)}${c}${')'.repeat(n)}`),
    pick(['EXISTS (SELECT 1 FROM secrets)', 'city IN (SELECT pin FROM secrets)', '1 = 1']),
  ),
})).cond;

const counted = pick([
  'count(DISTINCT user)',
  'count(DISTINCT user)',
  'count(DISTINCT user) AS n',
  'count(*)',
  'sum(amount)',
  'count(DISTINCT city)',
  'count(DISTINCT ac_user_id)',
  'count(user)',
]);
const join = pick([
  '',
  '',
  ' JOIN people USING (user)',
  ' JOIN secrets USING (user)',
  ' LEFT JOIN people USING (user)',
  ', people',
  ' JOIN people ON people.age = visits.age',
  ' JOIN data_rows_3 USING (user)',
  ' JOIN visits USING (user)',
]);
const tail = pick([
  '',
  '',
  '',
  ' HAVING count(DISTINCT user) > 1',
  ' ORDER BY 1',
  ' LIMIT 1',
  ' UNION SELECT pin, 1 FROM secrets',
  '; DROP TABLE visits',
  ' -- comment',
  ' /* c */',
  '; SELECT * FROM sqlite_master',
  ' FOR UPDATE',
]);

/** A query in the shape of the subset, with parts drawn from everything above. */
const query: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(fc.tuple(value, fc.option(pick(['a', 'b', 'band', '"x: y"', 'user']))), {
      maxLength: 3,
    }),
    counted,
    pick(TABLES),
    join,
    fc.option(condition, { freq: 2 }),
    fc.boolean(),
    tail,
  )
  .map(([groups, count, table, joined, where, byPosition, end]) => {
    const select = [...groups.map(([g, alias]) => (alias ? `${g} AS ${alias}` : g)), count];
    const groupBy = groups.length
      ? ` GROUP BY ${groups.map(([g, alias], i) => (byPosition ? i + 1 : (alias ?? g))).join(', ')}`
      : '';
    return `SELECT ${select.join(', ')} FROM ${table}${joined}${where ? ` WHERE ${where}` : ''}${groupBy}${end}`;
  });

/** Strings that try to end the quoted constant: a safe compiler binds them as they are. */
const INJECTIONS = [
  "'; DROP TABLE visits; --'",
  "'x'' OR ''1''=''1'",
  "'\\'' OR 1=1 --'",
  "'Berlin'",
  "'data_rows_1'",
  "''",
  "'é''\"'",
];

/** Queries inside the subset over this organisation's tables, with hostile constants. */
const plausible: fc.Arbitrary<string> = fc
  .tuple(
    fc.subarray(
      [
        'city',
        'age',
        'floor(amount / 10) * 10',
        'extract(dow FROM t)',
        "lookup('countries', city)",
        'paid',
        'ceil(age / 3)',
        "CASE WHEN amount > 100 THEN 'big' WHEN city = 'x'' OR ''1''=''1' THEN city END",
        "CASE city WHEN '; DROP TABLE visits; --' THEN 1 WHEN 'Berlin' THEN age ELSE 0 END",
      ],
      { maxLength: 3 },
    ),
    pick(['visits', 'visits AS v', 'visits JOIN people USING (user)']),
    fc.array(
      fc.oneof(
        pick(INJECTIONS).map((c) => `city = ${c}`),
        fc
          .tuple(pick(['LIKE', 'NOT LIKE']), pick(INJECTIONS), pick(['', '%', '_', "' ESCAPE '!"]))
          .map(([op, c, w]) => `city ${op} ${c.slice(0, -1)}${w}'`),
        fc
          .tuple(
            pick(['amount', 'age', 't']),
            pick(['<', '>=', '<>']),
            fc.integer({ min: -5, max: 200 }),
          )
          .map(([c, op, n]) => `${c} ${op} ${n}`),
        fc
          .array(pick(INJECTIONS), { minLength: 1, maxLength: 5 })
          .map((l) => `city NOT IN (${l.join(', ')})`),
        pick([
          'paid',
          'NOT paid',
          'paid = TRUE',
          'age BETWEEN 20 AND 30',
          't IS NOT NULL',
          'city IS NULL',
        ]),
      ),
      { maxLength: 4 },
    ),
    pick([' AND ', ' OR ']),
  )
  .map(([groups, from, conditions, joiner]) => {
    const select = [...groups, 'count(DISTINCT user)'].join(', ');
    const where =
      conditions.length > 0 ? ` WHERE ${conditions.map((c) => `(${c})`).join(joiner)}` : '';
    const groupBy = groups.length > 0 ? ` GROUP BY ${groups.map((_, i) => i + 1).join(', ')}` : '';
    return `SELECT ${select} FROM ${from}${where}${groupBy}`;
  });

/** A query broken at random: characters cut, inserted, repeated, or the text cut short. */
const malformed: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(query, plausible),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.nat({ max: 20 }),
        pick(["'", '"', '(', ')', ';', '--', '/*', ',', '*', '\0', 'é', 'SELECT', ' ']),
        fc.nat({ max: 3 }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([text, edits]) => {
    let s = text;
    for (const [at, length, insert, kind] of edits) {
      const i = at % (s.length + 1);
      if (kind === 0) s = s.slice(0, i) + s.slice(i + length);
      else if (kind === 1) s = s.slice(0, i) + insert + s.slice(i);
      else if (kind === 2)
        s = s.slice(0, i) + s.slice(i, i + length).repeat(3) + s.slice(i + length);
      else s = s.slice(0, i);
    }
    return s;
  });

const noise = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
);

let t: TestStore;
let mineTables: Set<string>;
let otherLookupIds: Set<number>;
let before: string;

/** What a query reaches, judged by SQLite itself: the b-trees its program opens. */
function openedTables(db: Database.Database, sql: string, params: unknown[]): string[] {
  const roots = new Map(
    (
      db.prepare('SELECT name, tbl_name, rootpage FROM sqlite_master').all() as Array<{
        tbl_name: string;
        rootpage: number;
      }>
    ).map((r) => [r.rootpage, r.tbl_name]),
  );
  const program = db.prepare(`EXPLAIN ${sql}`).all(...params) as Array<{
    opcode: string;
    p2: number;
  }>;
  expect(program.some((op) => op.opcode === 'OpenWrite')).toBe(false);
  return program
    .filter((op) => op.opcode === 'OpenRead')
    .map((op) => roots.get(op.p2) ?? `page ${op.p2}`);
}

function snapshot(): string {
  const tables = t.db
    .prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name')
    .all() as Array<{ type: string; name: string }>;
  const counts = tables
    .filter((r) => r.type === 'table' && r.name.startsWith('data_'))
    .map(
      (r) =>
        `${r.name}:${(t.db.prepare(`SELECT count(*) AS n FROM "${r.name}"`).get() as { n: number }).n}`,
    );
  return JSON.stringify([tables, counts]);
}

const tally = { accepted: 0, refused: 0, cases: 0, likes: 0 };

/** The property every input must have. */
function check(text: string): void {
  let compiled;
  let parsed;
  try {
    parsed = parseSqlTask(text);
    compiled = t.store.compileSqlTask(MINE, parsed);
  } catch (error) {
    // Refused: an analyst's error (4xx) in the catalogue's words, never SQLite's.
    if (!(error instanceof AppError))
      throw new Error(`crash on ${JSON.stringify(text)}: ${String(error)}`);
    expect(error.status, text).toBeLessThan(500);
    expect(error.code, text).toBe('INVALID_SQL_TASK');
    expect(error.message, text).not.toMatch(/SQLITE_|SqliteError|no such (table|column)/);
    // Physical names appear only where the analyst wrote them (echoed in "no table named ...").
    for (const name of error.message.match(/data_rows_\d+|ac_\w+/g) ?? []) {
      expect(text, error.message).toContain(name);
    }
    tally.refused++;
    return;
  }
  tally.accepted++;
  if (/\bCASE\b/.test(text)) tally.cases++;
  if (/\bLIKE\b/.test(text)) tally.likes++;
  const touched = openedTables(t.db, compiled.sql, compiled.params);
  for (const name of touched) {
    expect(mineTables.has(name) || name === 'data_lookup_entries', `${text} reads ${name}`).toBe(
      true,
    );
  }
  // A lookup's table id is a parameter: it must be one of this organisation's lookup tables.
  const pieces = compiled.sql.split('?');
  pieces.forEach((piece, i) => {
    if (piece.endsWith('lookup_id = ')) {
      expect(otherLookupIds.has(compiled.params[i] as number), text).toBe(false);
    }
  });
  // And it runs: whatever the data, no SQLite error reaches the analyst.
  for (const user of t.store.streamSqlGroups(MINE, parsed, LIMITS))
    expect(user.userId).toMatch(/^m/);
}

beforeAll(async () => {
  t = await openTestStore();
  const visits = [
    { name: 'city', type: 'text' },
    { name: 'amount', type: 'double' },
    { name: 'age', type: 'integer' },
    { name: 'paid', type: 'boolean' },
    { name: 't', type: 'bigint' },
  ];
  t.store.createTable(OTHER, { name: 'visits', columns: visits });
  t.store.createTable(OTHER, { name: 'secrets', columns: [{ name: 'pin', type: 'text' }] });
  t.store.createTable(MINE, { name: 'visits', columns: visits });
  t.store.createTable(MINE, {
    name: 'people',
    columns: [
      { name: 'age', type: 'integer' },
      { name: 'name', type: 'text' },
    ],
  });
  t.store.setLookupTable(MINE, 'countries', [['DE', 'Germany']]);
  t.store.setLookupTable(OTHER, 'other_lookup', [['DE', 'secret']]);
  const rows = (prefix: string) =>
    Object.fromEntries(
      Array.from({ length: 20 }, (_, u) => [
        `${prefix}${u}`,
        {
          visits: [
            {
              city: ['Berlin', 'DE', null][u % 3],
              amount: u * 7.5,
              age: 20 + u,
              paid: u % 2 === 0,
              t: 1_700_000_000 + u * 86_400,
            },
          ],
          ...(prefix === 'm' ? { people: [{ age: 30 + (u % 5), name: `n${u}` }] } : {}),
        },
      ]),
    );
  t.store.insert(MINE, rows('m'));
  t.store.insert(OTHER, { ...rows('o'), o1: { secrets: [{ pin: '1234' }] } });
  const ids = t.db.prepare('SELECT id, org_id FROM data_tables').all() as Array<{
    id: number;
    org_id: string;
  }>;
  mineTables = new Set(ids.filter((r) => r.org_id === MINE).map((r) => `data_rows_${r.id}`));
  otherLookupIds = new Set(
    (
      t.db.prepare('SELECT id FROM data_lookup_tables WHERE org_id = ?').all(OTHER) as Array<{
        id: number;
      }>
    ).map((r) => r.id),
  );
  before = snapshot();
});
afterAll(() => t.close());

describe('sql task compiler under fuzzing', () => {
  it('refuses or safely compiles 10,000 generated, malformed and random queries', () => {
    fc.assert(
      fc.property(query, (text) => check(text)),
      { numRuns: 3000, seed: SEED, endOnFailure: true },
    );
    fc.assert(
      fc.property(plausible, (text) => check(text)),
      { numRuns: 3000, seed: SEED + 3, endOnFailure: true },
    );
    fc.assert(
      fc.property(malformed, (text) => check(text)),
      { numRuns: 2500, seed: SEED + 1, endOnFailure: true },
    );
    fc.assert(
      fc.property(noise, (text) => check(text)),
      { numRuns: 1500, seed: SEED + 2, endOnFailure: true },
    );
    for (const text of [
      "SELECT city, count(DISTINCT user) FROM visits WHERE city = ''; DROP TABLE visits; --' GROUP BY city",
      'SELECT city, count(DISTINCT user) FROM visits WHERE city = "x"; ATTACH DATABASE \'/tmp/x\' AS x GROUP BY city',
      'SELECT count(DISTINCT user) FROM secrets',
      `SELECT count(DISTINCT user) FROM visits WHERE ${'NOT '.repeat(5000)}age = 1`,
      `SELECT count(DISTINCT user) FROM visits WHERE ${'('.repeat(10_000)}age = 1${')'.repeat(10_000)}`,
      `SELECT count(DISTINCT user) FROM visits WHERE city IN (${Array(100_000).fill("'x'").join(',')})`,
      `SELECT ${Array(50).fill('city').join(' + ')}, count(DISTINCT user) FROM visits GROUP BY 1`,
    ]) {
      check(text);
    }
    console.log(
      `sql task fuzzing: ${tally.accepted} compiled and ran (${tally.cases} with CASE, ${tally.likes} with LIKE), ${tally.refused} refused`,
    );
    // The runs meant something: plenty of queries got through the parser and compiled, and ran.
    expect(tally.accepted + tally.refused).toBeGreaterThanOrEqual(10_000);
    expect(tally.accepted).toBeGreaterThan(1500);
    expect(tally.cases).toBeGreaterThan(50);
    expect(tally.likes).toBeGreaterThan(50);
    // Nothing was changed: every table, and every row count, as before.
    expect(snapshot()).toBe(before);
  }, 600_000);
});
