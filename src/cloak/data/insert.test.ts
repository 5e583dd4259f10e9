// Ingestion: every column type accepted and rejected with errors naming user/table/row/column, all or nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appError, openTestStore, type TestStore } from './test-support.ts';

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
  t.store.createTable('org', {
    name: 'all_types',
    columns: [
      { name: 'i', type: 'integer' },
      { name: 'big', type: 'bigint' },
      { name: 'f', type: 'float' },
      { name: 'd', type: 'double' },
      { name: 'b', type: 'boolean' },
      { name: 't', type: 'text' },
      { name: 'v', type: 'varchar(3)' },
    ],
  });
});
afterEach(() => t.close());

const rowsOf = (user: string) =>
  [...t.store.streamUsers('org', [{ table: 'all_types' }])].find((u) => u.userId === user)?.tables
    .all_types;

describe('values', () => {
  const accepted: Array<[string, unknown, unknown]> = [
    ['i', 0, 0],
    ['i', -2147483648, -2147483648],
    ['i', 2147483647, 2147483647],
    ['i', 3.0, 3],
    ['big', 2147483648, 2147483648],
    ['big', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ['big', -Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
    ['big', '9007199254740991', 9007199254740991],
    ['big', '-42', -42],
    ['f', 1.5, 1.5],
    ['f', -3, -3],
    ['d', 1e300, 1e300],
    ['d', 0.1, 0.1],
    ['b', true, true],
    ['b', false, false],
    ['t', '', ''],
    ['t', 'x'.repeat(100_000), 'x'.repeat(100_000)],
    [
      't',
      'emoji 😀 and "quotes" and \'; DROP TABLE x; --',
      'emoji 😀 and "quotes" and \'; DROP TABLE x; --',
    ],
    ['v', 'abc', 'abc'],
    ['v', '😀😀😀', '😀😀😀'],
    ['v', '', ''],
  ];
  it.each(accepted)('stores %s = %j and returns %j', (column, value, expected) => {
    t.store.insert('org', { u: { all_types: [{ [column]: value }] } });
    expect(rowsOf('u')?.[0]?.[column]).toEqual(expected);
  });

  it('stores null for every type, and null for a missing column', () => {
    t.store.insert('org', {
      u: { all_types: [{ i: null, big: null, f: null, d: null, b: null, t: null, v: null }, {}] },
    });
    const nulls = { i: null, big: null, f: null, d: null, b: null, t: null, v: null };
    expect(rowsOf('u')).toEqual([nulls, nulls]);
  });

  const rejected: Array<[string, unknown, string]> = [
    ['i', 1.5, 'whole number'],
    ['i', 2147483648, 'whole number from -2147483648 to 2147483647'],
    ['i', -2147483649, 'whole number'],
    ['i', '5', 'the string "5"'],
    ['i', true, 'got true'],
    ['big', 9007199254740992, 'bigint'],
    ['big', '9007199254740992', 'bigint'],
    ['big', '12a', 'bigint'],
    ['big', '1.5', 'bigint'],
    ['big', '', 'bigint'],
    ['big', 0.5, 'bigint'],
    ['f', '1.5', 'finite number (float)'],
    ['d', [1], 'got a list'],
    ['d', { n: 1 }, 'got an object'],
    ['b', 1, 'true or false'],
    ['b', 'true', 'true or false'],
    ['t', 5, 'string (text)'],
    ['t', 'lone \ud800 surrogate', 'unpaired'],
    ['t', 'nul \u0000 inside', 'U+0000 (NUL'],
    ['v', '\u0000', 'U+0000 (NUL'],
    ['v', 'abcd', 'at most 3 characters (varchar(3)), got 4 characters'],
    ['v', '😀😀😀😀', 'got 4 characters'],
    ['v', 12, 'string (varchar(3))'],
  ];
  it.each(rejected)(
    'rejects %s = %j, naming user, table, row and column',
    (column, value, problem) => {
      const error = appError(
        () =>
          t.store.insert('org', {
            alice: { all_types: [{}] },
            bob: { all_types: [{ i: 1 }, { i: 2, [column]: value }] },
          }),
        'INVALID_VALUE',
      );
      expect(error.status).toBe(422);
      expect(error.message).toContain(`User "bob", table "all_types", row 2, column "${column}": `);
      expect(error.message).toContain(problem);
      expect(t.store.rowCount('org', 'all_types')).toBe(0);
    },
  );

  it('rejects non-finite numbers given programmatically', () => {
    for (const value of [NaN, Infinity, -Infinity]) {
      appError(() => t.store.insert('org', { u: { all_types: [{ d: value }] } }), 'INVALID_VALUE');
      appError(() => t.store.insert('org', { u: { all_types: [{ i: value }] } }), 'INVALID_VALUE');
    }
  });
});

describe('payload shape', () => {
  it('accepts an empty payload and a user without rows', () => {
    expect(t.store.insert('org', {})).toEqual({ users: 0, rows: 0 });
    expect(t.store.insert('org', { u: {} })).toEqual({ users: 0, rows: 0 });
    expect(t.store.insert('org', { u: { all_types: [] } })).toEqual({ users: 0, rows: 0 });
    expect(
      t.store.insert('org', { u: { all_types: [{ i: 1 }, { i: 2 }] }, w: { all_types: [{}] } }),
    ).toEqual({
      users: 2,
      rows: 3,
    });
  });

  it('rejects a payload, user entry or row list of the wrong shape', () => {
    for (const payload of [null, [], 'x', 5])
      appError(() => t.store.insert('org', payload), 'INVALID_BODY');
    expect(appError(() => t.store.insert('org', { bob: [] }), 'INVALID_BODY').message).toContain(
      'user "bob"',
    );
    const notList = appError(
      () => t.store.insert('org', { bob: { all_types: { i: 1 } } }),
      'INVALID_BODY',
    );
    expect(notList.message).toContain('user "bob", table "all_types" must be a list of rows');
  });

  it('rejects a row that is not an object with INVALID_ROW', () => {
    for (const row of [null, [1, 2], 'row', 3]) {
      const error = appError(
        () => t.store.insert('org', { bob: { all_types: [{}, {}, row] } }),
        'INVALID_ROW',
      );
      expect(error.message).toContain('User "bob", table "all_types", row 3:');
    }
  });

  it('rejects an unknown table and an unknown column, naming them', () => {
    const table = appError(() => t.store.insert('org', { bob: { nope: [{}] } }), 'UNKNOWN_TABLE');
    expect(table.message).toContain('"nope"');
    expect(table.message).toContain('existing tables: all_types');
    const column = appError(
      () => t.store.insert('org', { bob: { all_types: [{ i: 1 }, { I: 1 }] } }),
      'UNKNOWN_COLUMN',
    );
    expect(column.message).toContain(
      'User "bob", table "all_types", row 2: table "all_types" has no column "I"',
    );
    for (const key of ['__proto__', 'ac_user_id', 'ac_seq', 'constructor']) {
      appError(
        () => t.store.insert('org', { bob: { all_types: [JSON.parse(`{"${key}": 1}`)] } }),
        'UNKNOWN_COLUMN',
      );
    }
    expect(t.store.rowCount('org', 'all_types')).toBe(0);
  });
});

describe('user ids', () => {
  it.each([
    ['', 'empty'],
    ['x'.repeat(201), 'longer than 200'],
    ['tab\there', 'control character'],
    ['new\nline', 'control character'],
    ['nul\u0000', 'control character'],
    ['del\u007f', 'control character'],
    ['c1\u0085', 'control character'],
    ['half \udc00', 'unpaired'],
  ])('rejects %j (%s)', (user, problem) => {
    const error = appError(
      () => t.store.insert('org', { ok: { all_types: [{}] }, [user]: { all_types: [{}] } }),
      'INVALID_USER_ID',
    );
    expect(error.message).toContain(problem);
    expect(t.store.rowCount('org', 'all_types')).toBe(0);
  });

  it('accepts ids of up to 200 characters, with spaces, quotes and any script', () => {
    const ids = [
      'x'.repeat(200),
      '😀'.repeat(200),
      'a user',
      '"quoted"; DROP TABLE data_tables; --',
      '__proto__',
      'Ünïcödé',
    ];
    t.store.insert('org', Object.fromEntries(ids.map((id) => [id, { all_types: [{ i: 1 }] }])));
    const seen = [...t.store.streamUsers('org', [{ table: 'all_types' }])].map((u) => u.userId);
    expect(seen.sort()).toEqual([...ids].sort());
  });
});

describe('all or nothing', () => {
  it('leaves every table unchanged when the last row of the last user of a large payload is bad', () => {
    t.store.createTable('org', { name: 'other', columns: [{ name: 'n', type: 'integer' }] });
    t.store.insert('org', { before: { all_types: [{ i: 1 }], other: [{ n: 1 }] } });
    const payload: Record<string, unknown> = {};
    for (let u = 0; u < 2000; u++)
      payload[`user${u}`] = { all_types: [{ i: u, t: 'x' }, { v: 'abc' }], other: [{ n: u }] };
    payload.last = { other: [{ n: 1 }], all_types: [{ i: 1 }, { i: 2 }, { v: 'abcd' }] };
    const error = appError(() => t.store.insert('org', payload), 'INVALID_VALUE');
    expect(error.message).toContain('User "last", table "all_types", row 3, column "v"');
    expect(t.store.rowCount('org', 'all_types')).toBe(1);
    expect(t.store.rowCount('org', 'other')).toBe(1);
    // The same payload without the bad row goes in whole.
    (payload.last as { all_types: unknown[] }).all_types.pop();
    expect(t.store.insert('org', payload)).toEqual({ users: 2001, rows: 6003 });
    expect(t.store.rowCount('org', 'all_types')).toBe(4003);
  });

  it('records arrival time and a sequence that orders rows across calls and tables', () => {
    t.store.createTable('org', { name: 'other', columns: [{ name: 'n', type: 'integer' }] });
    t.store.insert('org', { u: { all_types: [{ i: 1 }, { i: 2 }], other: [{ n: 3 }] } }, 1_000);
    t.store.insert('org', { u: { other: [{ n: 4 }], all_types: [{ i: 5 }] } }, 2_000.7);
    const read = (name: string) =>
      t.db
        .prepare(
          `SELECT ac_seq AS seq, ac_arrival AS arrival FROM data_rows_${name === 'all_types' ? 1 : 2} ORDER BY ac_seq`,
        )
        .all();
    expect(read('all_types')).toEqual([
      { seq: 1, arrival: 1000 },
      { seq: 2, arrival: 1000 },
      { seq: 5, arrival: 2000 },
    ]);
    expect(read('other')).toEqual([
      { seq: 3, arrival: 1000 },
      { seq: 4, arrival: 2000 },
    ]);
  });

  it('never reuses a sequence number after rows are deleted', () => {
    t.store.insert('org', { u: { all_types: [{ i: 1 }, { i: 2 }] } });
    t.store.deleteUser('org', 'u');
    t.store.insert('org', { u: { all_types: [{ i: 3 }] } });
    expect(t.db.prepare('SELECT ac_seq AS seq FROM data_rows_1').all()).toEqual([{ seq: 3 }]);
  });
});

describe('deleteUser', () => {
  it('removes every row of that user in every table of the organisation only', () => {
    t.store.createTable('org', { name: 'other', columns: [{ name: 'n', type: 'integer' }] });
    t.store.createTable('org2', { name: 'all_types', columns: [{ name: 'i', type: 'integer' }] });
    t.store.insert('org', {
      gone: { all_types: [{ i: 1 }, { i: 2 }], other: [{ n: 1 }] },
      kept: { all_types: [{ i: 3 }] },
    });
    t.store.insert('org2', { gone: { all_types: [{ i: 4 }] } });
    expect(t.store.deleteUser('org', 'gone')).toBe(3);
    expect(t.store.deleteUser('org', 'gone')).toBe(0);
    expect(t.store.rowCount('org', 'all_types')).toBe(1);
    expect(t.store.rowCount('org', 'other')).toBe(0);
    expect(t.store.rowCount('org2', 'all_types')).toBe(1);
    expect(
      [...t.store.streamUsers('org', [{ table: 'all_types' }, { table: 'other' }])].map(
        (u) => u.userId,
      ),
    ).toEqual(['kept']);
    appError(() => t.store.deleteUser('org', ''), 'INVALID_USER_ID');
  });
});
