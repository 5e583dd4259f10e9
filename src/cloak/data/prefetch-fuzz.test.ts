// Fuzzing the prefetch validation and SQL compiler: bad prefetches are 4xx errors that read and
// change nothing; valid ones select exactly the rows a plain JavaScript reading of the filter does.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../errors/index.ts';
import type { WhereTerm } from '../../shared/index.ts';
import { openTestStore, type TestStore } from './test-support.ts';

type Cell = number | string | boolean | null;
const NUMERIC = ['age', 'score'] as const;
const OPS = ['$eq', '$neq', '$gt', '$gte', '$lt', '$lte'] as const;

/** A small fixed data set: every value of every column, null included, appears several times. */
const ROWS: Array<Record<string, Cell>> = [];
for (let i = 0; i < 60; i++) {
  ROWS.push({
    age: i % 7 === 0 ? null : (i * 13) % 50,
    score: i % 5 === 0 ? null : ((i * 7) % 20) / 4 - 2,
    city: i % 6 === 0 ? null : ['Berlin', 'berlin', 'Paris', 'Zürich', ''][i % 5]!,
    vip: i % 4 === 0 ? null : i % 3 === 0,
  });
}

let t: TestStore;
beforeAll(async () => {
  t = await openTestStore();
  t.store.createTable('org', {
    name: 'p',
    columns: [
      { name: 'age', type: 'integer' },
      { name: 'score', type: 'double' },
      { name: 'city', type: 'varchar(20)' },
      { name: 'vip', type: 'boolean' },
    ],
  });
  t.store.insert('org', Object.fromEntries(ROWS.map((row, i) => [`u${i}`, { p: [row] }])));
});
afterAll(() => t.close());

/** A comparison term `{$$col: {op: value}}` with a value of the column's kind, and its JS reading. */
type Judge = (row: Record<string, Cell>) => boolean;
interface Term {
  term: WhereTerm;
  judge: Judge;
}

function compare(op: (typeof OPS)[number], cell: Cell, value: Cell): boolean {
  if (op === '$eq') return cell === value;
  if (op === '$neq') return cell !== value;
  if (cell === null || value === null) return false;
  if (op === '$gt') return cell > value;
  if (op === '$gte') return cell >= value;
  if (op === '$lt') return cell < value;
  return cell <= value;
}

const comparison: fc.Arbitrary<Term> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...NUMERIC),
      fc.constantFrom(...OPS),
      fc.oneof(fc.integer({ min: -5, max: 55 }), fc.constantFrom(-2, -0.5, 0.25, 2.75)),
    )
    .map(([column, op, value]): Term => ({
      term: { [`$$${column}`]: { [op]: value } } as WhereTerm,
      judge: (row) => compare(op, row[column] ?? null, value),
    })),
  fc
    .tuple(
      fc.constantFrom(...OPS),
      fc.constantFrom('Berlin', 'berlin', 'Paris', 'Zürich', '', 'M', 'Q'),
    )
    .map(([op, value]): Term => ({
      term: { $$city: { [op]: value } } as WhereTerm,
      judge: (row) => compare(op, row.city ?? null, value),
    })),
  fc
    .tuple(
      fc.constantFrom('$eq', '$neq') as fc.Arbitrary<'$eq' | '$neq'>,
      fc.constantFrom(true, false, null),
    )
    .map(([op, value]): Term => ({
      term: { $$vip: { [op]: value } } as WhereTerm,
      judge: (row) => compare(op, row.vip ?? null, value),
    })),
  fc
    .tuple(
      fc.constantFrom(...NUMERIC),
      fc.constantFrom('$eq', '$neq') as fc.Arbitrary<'$eq' | '$neq'>,
    )
    .map(([column, op]): Term => ({
      term: { [`$$${column}`]: { [op]: null } } as WhereTerm,
      judge: (row) => compare(op, row[column] ?? null, null),
    })),
);

const term: fc.Arbitrary<Term> = fc.letrec<{ term: Term; list: Term }>((tie) => ({
  term: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    fc.array(tie('list'), { minLength: 1, maxLength: 3 }).map((alternatives) => ({
      term: { $or: alternatives.map((a) => a.term) } as WhereTerm,
      judge: (row: Record<string, Cell>) => alternatives.some((a) => a.judge(row)),
    })),
    tie('term').map((inner) => ({
      term: { $not: inner.term } as WhereTerm,
      judge: (row: Record<string, Cell>) => !inner.judge(row),
    })),
  ),
  // A list inside $or is an AND of its terms.
  list: fc.oneof(
    tie('term'),
    fc.array(tie('term'), { minLength: 1, maxLength: 3 }).map((all) => ({
      term: all.map((a) => a.term) as unknown as WhereTerm,
      judge: (row: Record<string, Cell>) => all.every((a) => a.judge(row)),
    })),
  ),
})).term;

const selected = (where: WhereTerm[]) =>
  [...t.store.streamUsers('org', [{ table: 'p', where }])].map((u) => u.userId).sort();

describe('prefetch compiler, fuzzed', () => {
  it('selects exactly the rows a JavaScript reading of 1,500 generated filters selects', () => {
    fc.assert(
      fc.property(fc.array(term, { maxLength: 3 }), (terms) => {
        const expected = ROWS.flatMap((row, i) =>
          terms.every((x) => x.judge(row)) ? [`u${i}`] : [],
        ).sort();
        expect(selected(terms.map((x) => x.term))).toEqual(expected);
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses 2,000 generated bad prefetches with a 4xx error, reading and changing nothing', () => {
    const known = new Set(['age', 'score', 'city', 'vip']);
    const badTerm = fc.oneof(
      // Unknown column, unknown operator, value of the wrong kind, null with an ordering.
      fc
        .string({ maxLength: 10 })
        .filter((c) => !known.has(c))
        .map((c) => ({ [`$$${c}`]: { $eq: 1 } })),
      fc
        .string({ maxLength: 6 })
        .filter((op) => !(OPS as readonly string[]).includes(op))
        .map((op) => ({ $$age: { [op]: 1 } })),
      fc
        .oneof(fc.string(), fc.boolean(), fc.object({ maxDepth: 1 }))
        .map((v) => ({ $$age: { $eq: v } })),
      fc
        .oneof(fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }))
        .map((v) => ({ $$city: { $lt: v } })),
      fc.constantFrom('$gt', '$gte', '$lt', '$lte').map((op) => ({ $$score: { [op]: null } })),
      fc
        .oneof(fc.integer(), fc.string(), fc.constant(null), fc.constant([]))
        .map((v) => ({ $or: v })),
      fc.oneof(fc.integer(), fc.string(), fc.constant(null)).map((v) => ({ $not: v })),
      fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.boolean()),
      fc.constant({}),
    );
    const badSpec = fc.oneof(
      fc.record({
        table: fc.constant('p'),
        where: fc.tuple(term, badTerm).map(([good, bad]) => [good.term, bad]),
      }),
      fc.record({
        table: fc.constant('p'),
        where: fc.tuple(badTerm).map(([bad]) => [{ $or: [[bad]] }]),
      }),
      fc.record({
        table: fc.constant('p'),
        where: badTerm.map((bad) => [{ $not: { $not: bad } }]),
      }),
      fc.record({ table: fc.string().filter((n) => n !== 'p') }),
      fc.record({
        table: fc.constant('p'),
        user_rows: fc.oneof(
          fc.integer({ max: 0 }),
          // Not NaN (sent as null over JSON) and not a whole number, which would be a valid count.
          fc.double({ min: 0.1, max: 9.9, noNaN: true }).filter((v) => !Number.isInteger(v)),
          fc.string(),
          fc.constant(null),
        ),
      }),
      fc.record({
        table: fc.constant('p'),
        time_limit: fc.oneof(
          fc.integer({ max: -1 }),
          fc.string(),
          fc.boolean(),
          fc.constant(Number.POSITIVE_INFINITY),
        ),
      }),
      fc.record({
        table: fc.constant('p'),
        where: fc.oneof(fc.string(), fc.integer(), fc.object({ maxDepth: 1 })),
      }),
      fc.record({ table: fc.constant('p'), extra: fc.jsonValue() }),
      fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.constant([])),
    );
    const badPrefetch = fc.oneof(
      {
        weight: 8,
        arbitrary: fc
          .tuple(fc.array(fc.constant({ table: 'p' }), { maxLength: 2 }), badSpec)
          .map(([good, bad]) => [...good, bad]),
      },
      {
        weight: 1,
        arbitrary: fc.oneof(
          fc.jsonValue().filter((v) => !Array.isArray(v)),
          fc.constant(Array.from({ length: 21 }, () => ({ table: 'p' }))),
        ),
      },
    );
    const before = t.store.rowCount('org', 'p');
    fc.assert(
      fc.property(badPrefetch, (prefetch) => {
        let thrown: unknown;
        try {
          t.store.streamUsers('org', prefetch as never);
        } catch (error) {
          thrown = error;
        }
        if (!(thrown instanceof AppError) || thrown.status < 400 || thrown.status >= 500) {
          throw new Error(
            `not refused with a 4xx: ${String(thrown)} for ${JSON.stringify(prefetch)}`,
          );
        }
        expect(t.store.rowCount('org', 'p')).toBe(before);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but a 4xx error for 1,000 arbitrary JSON prefetches', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (prefetch) => {
        try {
          for (const user of t.store.streamUsers('org', prefetch as never))
            expect(user.userId).toBeTypeOf('string');
        } catch (error) {
          if (!(error instanceof AppError) || error.status >= 500) throw error;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
