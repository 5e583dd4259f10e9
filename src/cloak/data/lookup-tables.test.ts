// Lookup tables: whole-table replace, remove, stringification, duplicates and organisation separation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appError, openTestStore, type TestStore } from './test-support.ts';

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
});
afterEach(() => t.close());

describe('lookup tables', () => {
  it('stores pairs and answers lookups with strings; unknown keys and tables give undefined', () => {
    t.store.setLookupTable('org', 'countries', [
      ['DE', 'Germany'],
      ['FR', 'France'],
    ]);
    expect(t.store.lookup('org', 'countries', 'DE')).toBe('Germany');
    expect(t.store.lookup('org', 'countries', 'de')).toBeUndefined();
    expect(t.store.lookup('org', 'countries', 'IT')).toBeUndefined();
    expect(t.store.lookup('org', 'nope', 'DE')).toBeUndefined();
    expect(t.store.listLookupTables('org')).toEqual(['countries']);
  });

  it('replaces the whole table on a second upload', () => {
    t.store.setLookupTable('org', 'countries', [
      ['DE', 'Germany'],
      ['FR', 'France'],
    ]);
    t.store.setLookupTable('org', 'countries', [['IT', 'Italy']]);
    expect(t.store.lookup('org', 'countries', 'DE')).toBeUndefined();
    expect(t.store.lookup('org', 'countries', 'IT')).toBe('Italy');
    t.store.setLookupTable('org', 'countries', []);
    expect(t.store.lookup('org', 'countries', 'IT')).toBeUndefined();
    expect(t.store.listLookupTables('org')).toEqual(['countries']);
  });

  it('stringifies numbers and booleans in keys and values', () => {
    t.store.setLookupTable('org', 'codes', [
      [1, 2.5],
      [true, false],
      ['x', -0],
      [1e21, 'big'],
    ]);
    expect(t.store.lookup('org', 'codes', '1')).toBe('2.5');
    expect(t.store.lookup('org', 'codes', 'true')).toBe('false');
    expect(t.store.lookup('org', 'codes', 'x')).toBe('0');
    expect(t.store.lookup('org', 'codes', '1e+21')).toBe('big');
    // Task code may pass a number; it is looked up as its string.
    expect(t.store.lookup('org', 'codes', 1 as unknown as string)).toBe('2.5');
  });

  it('rejects duplicate keys, also when they only collide as strings, naming both pairs', () => {
    const error = appError(
      () =>
        t.store.setLookupTable('org', 'codes', [
          ['a', 'x'],
          [1, 'y'],
          ['1', 'z'],
        ]),
      'INVALID_BODY',
    );
    expect(error.message).toContain('pair [2] repeats the key "1" of pair [1]');
    expect(t.store.listLookupTables('org')).toEqual([]);
  });

  it('rejects a malformed upload naming the index, and keeps the previous table', () => {
    t.store.setLookupTable('org', 'codes', [['a', 'b']]);
    const cases: Array<[unknown, string]> = [
      [{ a: 'b' }, 'list of [key, value] pairs'],
      [[['a', 'b'], 'c'], 'pair [1] must be a list of two items'],
      [[['a', 'b', 'c']], 'pair [0] must be a list of two items'],
      [[['a']], 'pair [0] must be a list of two items'],
      [
        [
          ['a', 'b'],
          [null, 'x'],
        ],
        'pair [1]: the key must be',
      ],
      [[['a', { v: 1 }]], 'pair [0]: the value must be'],
      [[['a', ['x']]], 'pair [0]: the value must be'],
      [[['a', NaN]], 'pair [0]: the value must be'],
      [[['\ud800', 'x']], 'pair [0]: the key must be'],
      // NUL, as in upload values: PostgreSQL's text cannot hold it.
      [[['a', 'x\u0000y']], 'pair [0]: the value must be'],
      [[['k\u0000', 'x']], 'pair [0]: the key must be'],
    ];
    for (const [pairs, detail] of cases) {
      expect(
        appError(() => t.store.setLookupTable('org', 'codes', pairs), 'INVALID_BODY').message,
      ).toContain(detail);
    }
    expect(t.store.lookup('org', 'codes', 'a')).toBe('b');
  });

  it('applies the naming rules and keeps names unique ignoring case', () => {
    for (const name of ['ac_x', '1x', 'a-b', '']) {
      expect(
        appError(() => t.store.setLookupTable('org', name, []), 'INVALID_NAME').message,
      ).toContain('lookup table name');
    }
    t.store.setLookupTable('org', 'Products', [['1', 'a']]);
    expect(
      appError(() => t.store.setLookupTable('org', 'products', []), 'NAME_TAKEN').message,
    ).toContain('"Products"');
  });

  it('removes a table; removing an unknown one is an error naming the existing ones', () => {
    t.store.setLookupTable('org', 'a', [['k', 'v']]);
    t.store.setLookupTable('org', 'b', [['k', 'v']]);
    t.store.removeLookupTable('org', 'a');
    expect(t.store.lookup('org', 'a', 'k')).toBeUndefined();
    const error = appError(() => t.store.removeLookupTable('org', 'a'), 'UNKNOWN_LOOKUP_TABLE');
    expect(error.message).toContain('existing lookup tables: b');
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM data_lookup_entries').get()).toEqual({ n: 1 });
  });

  it('keeps organisations apart', () => {
    t.store.setLookupTable('A', 'secret', [['k', 'A value']]);
    t.store.setLookupTable('B', 'secret', [['k', 'B value']]);
    t.store.setLookupTable('A', 'only_a', [['k', 'v']]);
    expect(t.store.lookup('A', 'secret', 'k')).toBe('A value');
    expect(t.store.lookup('B', 'secret', 'k')).toBe('B value');
    expect(t.store.lookup('B', 'only_a', 'k')).toBeUndefined();
    expect(t.store.listLookupTables('B')).toEqual(['secret']);
    appError(() => t.store.removeLookupTable('B', 'only_a'), 'UNKNOWN_LOOKUP_TABLE');
    t.store.removeLookupTable('B', 'secret');
    expect(t.store.lookup('A', 'secret', 'k')).toBe('A value');
  });
});
