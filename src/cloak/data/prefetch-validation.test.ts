// Prefetch validation: shapes, limits, unknown tables and columns, and the exact path of every problem.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appError, openTestStore, type TestStore } from './test-support.ts';

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
  t.store.createTable('org', {
    name: 'people',
    columns: [
      { name: 'age', type: 'integer' },
      { name: 'big', type: 'bigint' },
      { name: 'city', type: 'varchar(20)' },
      { name: 'vip', type: 'boolean' },
    ],
  });
  t.store.createTable('org', { name: 'buys', columns: [{ name: 'amount', type: 'double' }] });
});
afterEach(() => t.close());

const check = (prefetch: unknown) => t.store.validatePrefetch('org', prefetch);
const problem = (prefetch: unknown) => appError(() => check(prefetch), 'INVALID_PREFETCH').message;

describe('valid prefetches', () => {
  it('returns a normalized copy with only the known keys', () => {
    const input = [
      {
        table: 'people',
        user_rows: 5,
        time_limit: 0.5,
        where: [
          { $$age: { $gte: 18, $lt: 65 }, $$city: { $eq: 'Berlin' } },
          {
            $or: [
              { $$vip: { $eq: true } },
              [{ $$city: { $neq: null } }, { $not: { $$age: { $eq: 30 } } }],
            ],
          },
          { $$big: { $gt: '9007199254740991' } },
        ],
      },
      { table: 'buys' },
    ];
    expect(check(input)).toEqual([
      {
        table: 'people',
        user_rows: 5,
        time_limit: 0.5,
        where: [
          { $$age: { $gte: 18, $lt: 65 }, $$city: { $eq: 'Berlin' } },
          {
            $or: [
              { $$vip: { $eq: true } },
              [{ $$city: { $neq: null } }, { $not: { $$age: { $eq: 30 } } }],
            ],
          },
          { $$big: { $gt: 9007199254740991 } },
        ],
      },
      { table: 'buys' },
    ]);
  });

  it('accepts an empty where list and every operator', () => {
    expect(check([{ table: 'buys', where: [] }])).toEqual([{ table: 'buys', where: [] }]);
    for (const op of ['$eq', '$neq', '$gt', '$gte', '$lt', '$lte']) {
      expect(check([{ table: 'buys', where: [{ $$amount: { [op]: 1.5 } }] }])[0]?.where).toEqual([
        { $$amount: { [op]: 1.5 } },
      ]);
    }
  });
});

describe('invalid prefetches, with paths', () => {
  it.each<[unknown, string]>([
    [{ table: 'people' }, 'Prefetch (the whole list): expected a list'],
    [[], 'Prefetch (the whole list): select at least one table'],
    [['people'], 'Prefetch [0]: expected an object'],
    [[{ table: 'people', columns: ['age'] }], 'Prefetch [0]: unknown key "columns"'],
    [[{}], 'Prefetch [0].table: expected a table name'],
    [
      [{ table: 'buys' }, { table: 'people' }, { table: 'buys' }],
      'Prefetch [2].table: table "buys" is already selected by [0]',
    ],
    [
      [{ table: 'people', user_rows: 0 }],
      'Prefetch [0].user_rows: expected a whole number of at least 1',
    ],
    [[{ table: 'people', user_rows: 1.5 }], 'Prefetch [0].user_rows'],
    [[{ table: 'people', user_rows: '3' }], 'Prefetch [0].user_rows'],
    [
      [{ table: 'people', time_limit: 0 }],
      'Prefetch [0].time_limit: expected a positive number of seconds',
    ],
    [[{ table: 'people', time_limit: -5 }], 'Prefetch [0].time_limit'],
    [[{ table: 'people', time_limit: '60' }], 'Prefetch [0].time_limit'],
    [
      [{ table: 'people', where: { $$age: { $eq: 1 } } }],
      'Prefetch [0].where: expected a list of terms',
    ],
    [[{ table: 'people', where: [null] }], 'Prefetch [0].where[0]: expected a term'],
    [
      [{ table: 'people', where: [[{ $$age: { $eq: 1 } }]] }],
      'Prefetch [0].where[0]: expected a term',
    ],
    [[{ table: 'people', where: [{}] }], 'Prefetch [0].where[0]: the term is empty'],
    [
      [{ table: 'people', where: [{ age: { $eq: 1 } }] }],
      'Prefetch [0].where[0]: unknown key "age"',
    ],
    [[{ table: 'people', where: [{ $and: [] }] }], 'Prefetch [0].where[0]: unknown key "$and"'],
    [
      [{ table: 'people', where: [{ $$age: 5 }] }],
      'Prefetch [0].where[0].$$age: expected one or more comparisons',
    ],
    [
      [{ table: 'people', where: [{ $$age: {} }] }],
      'Prefetch [0].where[0].$$age: expected one or more comparisons',
    ],
    [
      [{ table: 'people', where: [{ $$age: { $like: 'x' } }] }],
      'Prefetch [0].where[0].$$age: unknown operator "$like"',
    ],
    [
      [{ table: 'people', where: [{ $$age: { $eq: [1] } }] }],
      'Prefetch [0].where[0].$$age.$eq: column "age" holds numbers',
    ],
    [
      [{ table: 'people', where: [{ $$age: { $eq: '30' } }] }],
      'Prefetch [0].where[0].$$age.$eq: column "age" holds numbers',
    ],
    [
      [{ table: 'people', where: [{ $$city: { $eq: 5 } }] }],
      'Prefetch [0].where[0].$$city.$eq: column "city" holds strings',
    ],
    [
      [{ table: 'people', where: [{ $$vip: { $eq: 1 } }] }],
      'Prefetch [0].where[0].$$vip.$eq: column "vip" holds booleans',
    ],
    [
      [{ table: 'people', where: [{ $$age: { $gt: null } }] }],
      'Prefetch [0].where[0].$$age.$gt: null can only be compared with $eq or $neq',
    ],
    [[{ table: 'people', where: [{ $$big: { $eq: '1e3' } }] }], 'Prefetch [0].where[0].$$big.$eq'],
    [
      [{ table: 'people', where: [{ $or: [] }] }],
      'Prefetch [0].where[0].$or: expected a non-empty list',
    ],
    [
      [{ table: 'people', where: [{ $or: { $$age: { $eq: 1 } } }] }],
      'Prefetch [0].where[0].$or: expected a non-empty list',
    ],
    [
      [{ table: 'people', where: [{ $or: [{ $$age: { $eq: 1 } }, []] }] }],
      'Prefetch [0].where[0].$or[1]: the list of terms is empty',
    ],
    [
      [{ table: 'people', where: [{ $or: [{ $$age: { $eq: 1 } }, [{ $$age: { $eq: 2 } }, 7]] }] }],
      'Prefetch [0].where[0].$or[1][1]: expected a term',
    ],
    [
      [
        {
          table: 'people',
          where: [{ $$age: { $eq: 1 } }, { $or: [{ $not: { $$age: { $xx: 1 } } }] }],
        },
      ],
      'Prefetch [0].where[1].$or[0].$not.$$age: unknown operator "$xx"',
    ],
    [
      [{ table: 'people', where: [{ $not: [] }] }],
      'Prefetch [0].where[0].$not: the list of terms is empty',
    ],
    [[{ table: 'people', where: [{ $not: null }] }], 'Prefetch [0].where[0].$not: expected a term'],
    [
      [{ table: 'people', where: [{ $or: [{ $$age: { $eq: 1 } }], $$age: { $eq: 2 } }] }],
      'Prefetch [0].where[0]: "$or" must be the only key',
    ],
    [
      [{ table: 'people', where: [{ $not: { $$age: { $eq: 1 } }, $or: [] }] }],
      'must be the only key',
    ],
  ])('%j', (prefetch, message) => {
    expect(problem(prefetch)).toContain(message);
  });

  it('names an unknown table with UNKNOWN_TABLE and lists the known ones', () => {
    const error = appError(() => check([{ table: 'buys' }, { table: 'nope' }]), 'UNKNOWN_TABLE');
    expect(error.message).toContain('"nope"');
    expect(error.message).toContain('buys, people');
    appError(() => check([{ table: 'People' }]), 'UNKNOWN_TABLE');
  });

  it('names an unknown column with its path, also deep inside $or and $not', () => {
    const deep = appError(
      () =>
        check([
          { table: 'buys' },
          {
            table: 'people',
            where: [
              { $$age: { $eq: 1 } },
              { $or: [{ $$age: { $eq: 2 } }, { $not: [{ $$AGE: { $eq: 3 } }] }] },
            ],
          },
        ]),
      'UNKNOWN_COLUMN',
    );
    expect(deep.message).toBe(
      'Prefetch [1].where[1].$or[1].$not[0]: table "people" has no column "AGE" (its columns: age, big, city, vip).',
    );
    appError(
      () => check([{ table: 'people', where: [{ $$ac_user_id: { $eq: 'x' } }] }]),
      'UNKNOWN_COLUMN',
    );
    appError(() => check([{ table: 'people', where: [{ $$: { $eq: 'x' } }] }]), 'UNKNOWN_COLUMN');
  });

  it('limits the number of tables, comparisons and nesting depth', () => {
    for (let i = 0; i < 21; i++)
      t.store.createTable('org', { name: `t${i}`, columns: [{ name: 'v', type: 'integer' }] });
    expect(check(Array.from({ length: 20 }, (_, i) => ({ table: `t${i}` })))).toHaveLength(20);
    expect(problem(Array.from({ length: 21 }, (_, i) => ({ table: `t${i}` })))).toContain(
      'at most 20 tables',
    );
    const many = (n: number) => [
      {
        table: 'buys',
        where: [{ $or: Array.from({ length: n }, (_, i) => ({ $$amount: { $eq: i } })) }],
      },
    ];
    expect(() => check(many(1000))).not.toThrow();
    expect(problem(many(1001))).toContain(
      'Prefetch [0].where[0].$or[1000].$$amount: a selection may hold at most 1000 comparisons',
    );
    let term: unknown = { $$amount: { $eq: 1 } };
    for (let i = 0; i < 40; i++) term = { $not: term };
    expect(problem([{ table: 'buys', where: [term] }])).toContain('nested more than 32 levels');
  });
});
