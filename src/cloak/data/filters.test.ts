// streamUsers filters: every operator, $or, $not and nesting on a hand-checked data set, and SQL injection.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WhereTerm } from '../../shared/index.ts';
import { appError, openTestStore, type TestStore } from './test-support.ts';

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
});
afterEach(() => t.close());

const PEOPLE = {
  u1: { age: 10, city: 'Berlin', vip: true, score: 1.5 },
  u2: { age: 20, city: 'Paris', vip: false, score: null },
  u3: { age: 30, city: null, vip: null, score: 3 },
  u4: { age: null, city: 'Berlin', vip: false, score: -1 },
  u5: { age: 50, city: 'berlin', vip: true, score: 0 },
};

describe('filters', () => {
  beforeEach(() => {
    t.store.createTable('org', {
      name: 'p',
      columns: [
        { name: 'age', type: 'integer' },
        { name: 'city', type: 'varchar(20)' },
        { name: 'vip', type: 'boolean' },
        { name: 'score', type: 'double' },
      ],
    });
    t.store.insert(
      'org',
      Object.fromEntries(Object.entries(PEOPLE).map(([u, row]) => [u, { p: [row] }])),
    );
  });

  const select = (...where: WhereTerm[]) =>
    [...t.store.streamUsers('org', [{ table: 'p', where }])].map((u) => {
      if (u.userId in PEOPLE) expect(u.tables.p).toEqual([PEOPLE[u.userId as keyof typeof PEOPLE]]);
      return u.userId;
    });

  it.each<[string, WhereTerm[], string[]]>([
    ['no filter', [], ['u1', 'u2', 'u3', 'u4', 'u5']],
    ['$eq number', [{ $$age: { $eq: 20 } }], ['u2']],
    ['$eq null', [{ $$age: { $eq: null } }], ['u4']],
    ['$neq number keeps nulls', [{ $$age: { $neq: 20 } }], ['u1', 'u3', 'u4', 'u5']],
    ['$neq null', [{ $$age: { $neq: null } }], ['u1', 'u2', 'u3', 'u5']],
    ['$gt', [{ $$age: { $gt: 20 } }], ['u3', 'u5']],
    ['$gte', [{ $$age: { $gte: 20 } }], ['u2', 'u3', 'u5']],
    ['$lt', [{ $$age: { $lt: 30 } }], ['u1', 'u2']],
    ['$lte', [{ $$age: { $lte: 30 } }], ['u1', 'u2', 'u3']],
    ['$lt with a fraction on an integer column', [{ $$age: { $lt: 10.5 } }], ['u1']],
    ['two operators in one object', [{ $$age: { $gt: 10, $lt: 50 } }], ['u2', 'u3']],
    ['$eq string is case-sensitive', [{ $$city: { $eq: 'Berlin' } }], ['u1', 'u4']],
    ['$lt string compares by code point', [{ $$city: { $lt: 'C' } }], ['u1', 'u4']],
    ['$eq true', [{ $$vip: { $eq: true } }], ['u1', 'u5']],
    ['$eq false', [{ $$vip: { $eq: false } }], ['u2', 'u4']],
    ['$neq true keeps nulls', [{ $$vip: { $neq: true } }], ['u2', 'u3', 'u4']],
    ['$gt on a double', [{ $$score: { $gt: 0 } }], ['u1', 'u3']],
    ['$lte on a double', [{ $$score: { $lte: 0 } }], ['u4', 'u5']],
    ['$eq integer value on a double column', [{ $$score: { $eq: 3 } }], ['u3']],
    ['list means AND', [{ $$city: { $eq: 'Berlin' } }, { $$vip: { $eq: true } }], ['u1']],
    [
      'two columns in one term mean AND',
      [{ $$city: { $eq: 'Berlin' }, $$age: { $eq: null } }],
      ['u4'],
    ],
    [
      '$not is two-valued (a null age is not > 20)',
      [{ $not: { $$age: { $gt: 20 } } }],
      ['u1', 'u2', 'u4'],
    ],
    [
      '$or',
      [{ $or: [{ $$city: { $eq: 'Paris' } }, { $$vip: { $eq: true } }] }],
      ['u1', 'u2', 'u5'],
    ],
    [
      '$or of a list (AND) and a term',
      [
        {
          $or: [[{ $$city: { $eq: 'Berlin' } }, { $$vip: { $eq: false } }], { $$age: { $eq: 30 } }],
        },
      ],
      ['u3', 'u4'],
    ],
    [
      '$not of a list',
      [{ $not: [{ $$age: { $gte: 20 } }, { $$age: { $lte: 30 } }] }],
      ['u1', 'u4', 'u5'],
    ],
    [
      '$not of $or with a nested $not',
      [{ $not: { $or: [{ $$vip: { $eq: true } }, { $not: { $$score: { $eq: null } } }] } }],
      ['u2'],
    ],
    [
      '$or inside AND',
      [{ $$age: { $neq: null } }, { $or: [{ $$city: { $eq: null } }, { $$score: { $lt: 1 } }] }],
      ['u3', 'u5'],
    ],
    ['double $not', [{ $not: { $not: { $$city: { $eq: 'Berlin' } } } }], ['u1', 'u4']],
  ])('%s', (_name, where, users) => {
    expect(select(...where)).toEqual(users);
  });

  it('handles a long $or list (balanced SQL, bound parameters)', () => {
    const cities = Array.from({ length: 1000 }, (_, i) => ({
      $$city: { $eq: i === 999 ? 'Paris' : `c${i}` },
    }));
    expect(select({ $or: cities })).toEqual(['u2']);
  });

  it('binds values: SQL in a value matches only itself and harms nothing', () => {
    const evil = ["Berlin' OR '1'='1", "';DROP TABLE p;--", 'x";DROP TABLE p;--'];
    for (const value of evil) expect(select({ $$city: { $eq: value } })).toEqual([]);
    t.store.insert('org', { evil: { p: [{ city: evil[1] }] } });
    expect(select({ $$city: { $eq: evil[1] as string } })).toEqual(['evil']);
    appError(() => select({ '$$city" OR 1=1 --': { $eq: 'x' } }), 'UNKNOWN_COLUMN');
    appError(
      () => t.store.validatePrefetch('org', [{ table: 'p"; DROP TABLE data_tables; --' }]),
      'UNKNOWN_TABLE',
    );
    appError(
      () =>
        t.store.createTable('org', {
          name: 'q',
          columns: [{ name: 'x"; DROP TABLE data_tables; --', type: 'text' }],
        }),
      'INVALID_NAME',
    );
    expect(t.store.rowCount('org', 'p')).toBe(6);
    expect(t.store.listTables('org').map((x) => x.name)).toEqual(['p']);
  });
});
