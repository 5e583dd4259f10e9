// User tables: alter with versions, drop, listing, organisation separation and the database file.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteDb } from '../../store/index.ts';
import { DATA_MIGRATIONS } from './schema.ts';
import { SqliteDataStore } from './sqlite-data-store.ts';
import { appError, openTestStore, type TestStore } from './test-support.ts';

let t: TestStore;
beforeEach(async () => {
  t = await openTestStore();
});
afterEach(() => t.close());

const col = (name: string, type = 'integer') => ({ name, type });

describe('alter', () => {
  beforeEach(() => {
    t.store.createTable('org', { name: 'people', columns: [col('age'), col('city', 'text')] });
  });

  it('adds columns and increments the version each time', () => {
    const first = t.store.alterTable('org', 'people', { add: [col('height', 'double')] });
    expect(first.version).toBe(2);
    expect(first.columns.map((c) => c.name)).toEqual(['age', 'city', 'height']);
    const second = t.store.alterTable('org', 'people', { drop: ['city'] });
    expect(second.version).toBe(3);
    expect(second.columns).toEqual([col('age'), col('height', 'double')]);
    expect(t.store.getTable('org', 'people')).toEqual(second);
  });

  it('keeps existing rows, null in an added column, and the rest of a row when a column is dropped', () => {
    t.store.insert('org', { u1: { people: [{ age: 30, city: 'Paris' }] } });
    t.store.alterTable('org', 'people', { add: [col('ok', 'boolean')], drop: ['age'] });
    t.store.insert('org', { u2: { people: [{ city: 'Rome', ok: true }] } });
    const users = [...t.store.streamUsers('org', [{ table: 'people' }])];
    expect(users).toEqual([
      { userId: 'u1', tables: { people: [{ city: 'Paris', ok: null }] } },
      { userId: 'u2', tables: { people: [{ city: 'Rome', ok: true }] } },
    ]);
    appError(() => t.store.insert('org', { u3: { people: [{ age: 1 }] } }), 'UNKNOWN_COLUMN');
  });

  it('re-creates a dropped column with a new type in one change', () => {
    t.store.insert('org', { u1: { people: [{ age: 30 }] } });
    const table = t.store.alterTable('org', 'people', { drop: ['age'], add: [col('age', 'text')] });
    expect(table.columns).toEqual([col('city', 'text'), col('age', 'text')]);
    t.store.insert('org', { u1: { people: [{ age: 'thirty' }] } });
    expect([...t.store.streamUsers('org', [{ table: 'people' }])][0]?.tables.people).toEqual([
      { city: null, age: null },
      { city: null, age: 'thirty' },
    ]);
  });

  it('cannot drop every column, nor an unknown one, nor add an existing one', () => {
    appError(() => t.store.alterTable('org', 'people', { drop: ['age', 'city'] }), 'NO_COLUMNS');
    const unknown = appError(
      () => t.store.alterTable('org', 'people', { drop: ['age', 'height'] }),
      'UNKNOWN_COLUMN',
    );
    expect(unknown.message).toContain('drop[1]');
    expect(unknown.message).toContain('"height"');
    expect(
      appError(() => t.store.alterTable('org', 'people', { add: [col('AGE')] }), 'COLUMN_EXISTS')
        .message,
    ).toContain('"age"');
    appError(
      () => t.store.alterTable('org', 'people', { add: [col('x'), col('X')] }),
      'DUPLICATE_COLUMN',
    );
    appError(() => t.store.alterTable('org', 'people', { add: [col('ac_x')] }), 'INVALID_NAME');
    appError(
      () => t.store.alterTable('org', 'people', { add: [col('x', 'money')] }),
      'INVALID_COLUMN_TYPE',
    );
    // Nothing of the failed changes happened.
    expect(t.store.getTable('org', 'people')).toEqual({
      name: 'people',
      columns: [col('age'), col('city', 'text')],
      version: 1,
    });
  });

  it('allows replacing every column when the change leaves at least one', () => {
    expect(
      t.store.alterTable('org', 'people', { drop: ['age', 'city'], add: [col('x')] }).columns,
    ).toEqual([col('x')]);
  });

  it('rejects an empty or malformed change, and an unknown table', () => {
    appError(() => t.store.alterTable('org', 'people', {}), 'INVALID_BODY');
    appError(() => t.store.alterTable('org', 'people', { rename: 'x' }), 'INVALID_BODY');
    appError(() => t.store.alterTable('org', 'people', { drop: 'age' }), 'INVALID_BODY');
    appError(() => t.store.alterTable('org', 'people', { drop: ['age', 'age'] }), 'INVALID_BODY');
    appError(() => t.store.alterTable('org', 'people', { add: col('x') }), 'INVALID_BODY');
    appError(() => t.store.alterTable('org', 'nope', { add: [col('x')] }), 'UNKNOWN_TABLE');
  });
});

describe('drop and list', () => {
  it('drops a table with all its rows; a new table of that name starts empty', () => {
    t.store.createTable('org', { name: 'a', columns: [col('v')] });
    t.store.createTable('org', { name: 'b', columns: [col('v')] });
    t.store.insert('org', { u: { a: [{ v: 1 }, { v: 2 }], b: [{ v: 3 }] } });
    t.store.dropTable('org', 'a');
    expect(t.store.listTables('org').map((x) => x.name)).toEqual(['b']);
    appError(() => t.store.rowCount('org', 'a'), 'UNKNOWN_TABLE');
    appError(() => t.store.dropTable('org', 'a'), 'UNKNOWN_TABLE');
    t.store.createTable('org', { name: 'a', columns: [col('v')] });
    expect(t.store.rowCount('org', 'a')).toBe(0);
    expect(t.store.rowCount('org', 'b')).toBe(1);
    const physical = t.db
      .prepare(
        "SELECT COUNT(*) AS n FROM sqlite_schema WHERE type = 'table' AND name LIKE 'data_rows_%'",
      )
      .get() as { n: number };
    expect(physical.n).toBe(2);
  });

  it("lists an organisation's tables by name with their columns and versions", () => {
    t.store.createTable('org', { name: 'zeta', columns: [col('v')] });
    t.store.createTable('org', { name: 'alpha', columns: [col('w', 'text')] });
    expect(t.store.listTables('org')).toEqual([
      { name: 'alpha', columns: [col('w', 'text')], version: 1 },
      { name: 'zeta', columns: [col('v')], version: 1 },
    ]);
  });
});

describe('organisations', () => {
  it('are fully separate: same names, no visibility, no alter, drop, insert or count across', () => {
    t.store.createTable('A', { name: 'visits', columns: [col('v')] });
    t.store.createTable('B', { name: 'visits', columns: [col('other', 'text')] });
    t.store.createTable('A', { name: 'secret', columns: [col('v')] });
    t.store.insert('A', { u: { secret: [{ v: 42 }] } });
    expect(t.store.listTables('B').map((x) => x.name)).toEqual(['visits']);
    expect(t.store.getTable('B', 'secret')).toBeUndefined();
    expect(appError(() => t.store.rowCount('B', 'secret'), 'UNKNOWN_TABLE').message).not.toContain(
      'secret,',
    );
    appError(() => t.store.insert('B', { u: { secret: [{ v: 1 }] } }), 'UNKNOWN_TABLE');
    appError(() => t.store.alterTable('B', 'secret', { add: [col('x')] }), 'UNKNOWN_TABLE');
    appError(() => t.store.dropTable('B', 'secret'), 'UNKNOWN_TABLE');
    appError(() => t.store.validatePrefetch('B', [{ table: 'secret' }]), 'UNKNOWN_TABLE');
    expect(t.store.deleteUser('B', 'u')).toBe(0);
    expect(t.store.rowCount('A', 'secret')).toBe(1);
    expect(t.store.getTable('B', 'visits')?.columns).toEqual([col('other', 'text')]);
  });
});

describe('the database file', () => {
  it('uses WAL, synchronous=FULL and foreign keys, and migrates idempotently on reopen', async () => {
    expect(t.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(t.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(t.db.pragma('foreign_keys', { simple: true })).toBe(1);
    t.store.createTable('org', { name: 'kept', columns: [col('v')] });
    t.store.insert('org', { u: { kept: [{ v: 7 }] } });
    const again = await t.reopen();
    const third = await t.reopen();
    expect(again.listTables('org').map((x) => x.name)).toEqual(['kept']);
    expect(third.rowCount('org', 'kept')).toBe(1);
    const steps = t.db
      .prepare("SELECT COUNT(*) AS n FROM schema_migrations WHERE component = 'cloak-data'")
      .get() as { n: number };
    // Each migration step once (the catalogue, import progress, the old record's removal).
    expect(steps.n).toBe(DATA_MIGRATIONS.length);
  });

  it('adopts a cloak.db migrated by the old data_schema_migrations record without re-running a step', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opencloak-legacy-'));
    const file = path.join(dir, 'cloak.db');
    try {
      // A cloak.db as the old mechanism left it: both steps applied and recorded in its own table.
      const old = new Database(file);
      for (const step of DATA_MIGRATIONS.slice(0, 2))
        old.exec((step.up as { sqlite: string }).sqlite);
      old.exec(
        'CREATE TABLE data_schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;' +
          'INSERT INTO data_schema_migrations VALUES (1, 0), (2, 0);',
      );
      old
        .prepare(
          "INSERT INTO data_tables (org_id, name, columns, version, created_at, updated_at) VALUES ('org', 'old', '[]', 1, 0, 0)",
        )
        .run();
      old.close();
      const db = openSqliteDb(file);
      const store = await SqliteDataStore.open(db);
      expect((await store.listTables('org')).map((x) => x.name)).toEqual(['old']);
      const applied = db.raw
        .prepare(
          "SELECT version FROM schema_migrations WHERE component = 'cloak-data' ORDER BY version",
        )
        .pluck()
        .all();
      expect(applied).toEqual([1, 2, 3]);
      const record = db.raw
        .prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'data_schema_migrations'")
        .pluck()
        .get();
      expect(record).toBe(0);
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
