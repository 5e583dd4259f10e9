// Table and column naming rules and column types: accepted, normalized, or rejected with the right error.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appError, openTestStore, type TestStore } from './test-support.ts';

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
});
afterEach(() => t.close());

const col = (name: string, type = 'integer') => ({ name, type });

describe('table names', () => {
  it.each([
    'a',
    'Visits',
    'user_events_2',
    'x'.repeat(63),
    'select',
    'order',
    'rowid',
    'constructor',
    'acx',
    'a_c_',
  ])('accepts %s', (name) => {
    expect(t.store.createTable('org', { name, columns: [col('v')] }).name).toBe(name);
    expect(t.store.getTable('org', name)?.name).toBe(name);
  });

  it.each([
    '',
    '1abc',
    '_x',
    'has space',
    'dash-ed',
    'x'.repeat(64),
    'ac_x',
    'AC_x',
    'Ac_',
    'émile',
    'a;b',
    'x"; DROP TABLE data_tables; --',
  ])('rejects %j with INVALID_NAME', (name) => {
    const error = appError(
      () => t.store.createTable('org', { name, columns: [col('v')] }),
      'INVALID_NAME',
    );
    expect(error.status).toBe(422);
    expect(error.message).toContain('table name');
    expect(t.store.listTables('org')).toEqual([]);
  });

  it('rejects a name that is not a string, and a body that is not a definition', () => {
    appError(() => t.store.createTable('org', { name: 5, columns: [col('v')] }), 'INVALID_BODY');
    appError(() => t.store.createTable('org', null), 'INVALID_BODY');
    appError(() => t.store.createTable('org', [{ name: 'x' }]), 'INVALID_BODY');
    const extra = appError(
      () => t.store.createTable('org', { name: 'x', colums: [] }),
      'INVALID_BODY',
    );
    expect(extra.message).toContain('"colums"');
  });

  it('refuses a second table of the same name, also in another case', () => {
    t.store.createTable('org', { name: 'visits', columns: [col('v')] });
    expect(
      appError(
        () => t.store.createTable('org', { name: 'visits', columns: [col('v')] }),
        'TABLE_EXISTS',
      ).status,
    ).toBe(409);
    expect(
      appError(
        () => t.store.createTable('org', { name: 'VISITS', columns: [col('v')] }),
        'TABLE_EXISTS',
      ).message,
    ).toContain('"visits"');
  });

  it('looks names up exactly: another spelling is unknown', () => {
    t.store.createTable('org', { name: 'visits', columns: [col('v')] });
    expect(t.store.getTable('org', 'Visits')).toBeUndefined();
    const error = appError(() => t.store.rowCount('org', 'Visits'), 'UNKNOWN_TABLE');
    expect(error.message).toContain('existing tables: visits');
  });
});

describe('columns', () => {
  it('requires at least one column', () => {
    appError(() => t.store.createTable('org', { name: 'x', columns: [] }), 'NO_COLUMNS');
    appError(() => t.store.createTable('org', { name: 'x' }), 'INVALID_BODY');
    appError(() => t.store.createTable('org', { name: 'x', columns: 'a:int' }), 'INVALID_BODY');
  });

  it('applies the naming rules to columns', () => {
    for (const name of [
      'ac_user_id',
      'AC_SEQ',
      '9lives',
      'a b',
      'x'.repeat(64),
      '"; DROP TABLE x; --',
    ]) {
      const error = appError(
        () => t.store.createTable('org', { name: 't', columns: [col(name)] }),
        'INVALID_NAME',
      );
      expect(error.message).toContain('column name');
    }
    appError(
      () => t.store.createTable('org', { name: 't', columns: [{ name: 1, type: 'text' }] }),
      'INVALID_BODY',
    );
    appError(
      () =>
        t.store.createTable('org', {
          name: 't',
          columns: [{ name: 'a', type: 'text', null: true }],
        }),
      'INVALID_BODY',
    );
    appError(() => t.store.createTable('org', { name: 't', columns: ['a'] }), 'INVALID_BODY');
  });

  it('rejects duplicate column names, ignoring case', () => {
    const error = appError(
      () => t.store.createTable('org', { name: 't', columns: [col('Age'), col('age', 'text')] }),
      'DUPLICATE_COLUMN',
    );
    expect(error.message).toContain('"age"');
  });

  it('accepts every type, in any case, and stores it normalized', () => {
    const table = t.store.createTable('org', {
      name: 't',
      columns: [
        col('a', 'INTEGER'),
        col('b', 'BigInt'),
        col('c', 'float'),
        col('d', 'Double'),
        col('e', 'boolean'),
        col('f', 'TEXT'),
        col('g', 'VARCHAR(1)'),
        col('h', 'varchar( 65535 )'),
        col('i', ' varchar(010) '),
      ],
    });
    expect(table.columns.map((c) => c.type)).toEqual([
      'integer',
      'bigint',
      'float',
      'double',
      'boolean',
      'text',
      'varchar(1)',
      'varchar(65535)',
      'varchar(10)',
    ]);
    expect(t.store.getTable('org', 't')).toEqual(table);
  });

  it.each([
    'int',
    'string',
    'varchar',
    'varchar()',
    'varchar(0)',
    'varchar(65536)',
    'varchar(-1)',
    'varchar(1.5)',
    'varchar(100000)',
    'decimal(10,2)',
    'integer[]',
    '',
  ])('rejects type %j naming the column', (type) => {
    const error = appError(
      () => t.store.createTable('org', { name: 't', columns: [col('amount', type)] }),
      'INVALID_COLUMN_TYPE',
    );
    expect(error.message).toContain('Column "amount"');
  });

  it('rejects a type that is not a string', () => {
    for (const type of [5, null, undefined, ['text']]) {
      appError(
        () => t.store.createTable('org', { name: 't', columns: [{ name: 'a', type }] }),
        'INVALID_COLUMN_TYPE',
      );
    }
  });
});
