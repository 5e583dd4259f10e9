// One suite, both implementations of the SQL seam: what a store may rely on in either dialect.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appliedVersions, runMigrations, type MigrationStep } from './migrations.ts';
import { numberPlaceholders } from './sql-db.ts';
import { TEST_DIALECTS, type TestDb } from './test-support.ts';

const STEPS: MigrationStep[] = [
  {
    version: 1,
    name: 'items',
    up: 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)',
  },
  {
    version: 2,
    name: 'items-size',
    up: {
      sqlite: 'ALTER TABLE items ADD COLUMN size INTEGER',
      postgres: 'ALTER TABLE items ADD COLUMN size BIGINT',
    },
  },
];

describe.each(TEST_DIALECTS)('SqlDb on $dialect', ({ open }) => {
  let t: TestDb;
  beforeEach(async () => {
    t = await open();
    await runMigrations(t.db, 'test', STEPS);
  });
  afterEach(async () => t.cleanup());

  it('binds parameters, returns rows, counts changes and reads bigint counts as numbers', async () => {
    await t.db.run('INSERT INTO items (id, name, size) VALUES (?, ?, ?)', [1, "it's ?", 5]);
    await t.db.run('INSERT INTO items (id, name, size) VALUES (?, ?, ?)', [2, 'b', 7]);
    expect(await t.db.get('SELECT name FROM items WHERE id = ?', [1])).toEqual({ name: "it's ?" });
    expect(await t.db.get('SELECT count(*) AS n FROM items')).toEqual({ n: 2 });
    expect(await t.db.run('UPDATE items SET size = size + 1 WHERE size > ?', [0])).toEqual({
      changes: 2,
    });
    expect(await t.db.all('SELECT id FROM items ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await t.db.get('SELECT id FROM items WHERE id = ?', [99])).toBeUndefined();
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await t.db.transaction(async (tx) => {
      await tx.run('INSERT INTO items (id, name) VALUES (?, ?)', [1, 'kept']);
    });
    await expect(
      t.db.transaction(async (tx) => {
        await tx.run('INSERT INTO items (id, name) VALUES (?, ?)', [2, 'lost']);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await t.db.all('SELECT name FROM items')).toEqual([{ name: 'kept' }]);
  });

  it('runs transactions started at once one after the other, each whole', async () => {
    const add = (id: number) =>
      t.db.transaction(async (tx) => {
        await tx.run('INSERT INTO items (id, name) VALUES (?, ?)', [id, 'first']);
        await tx.run('UPDATE items SET name = ? WHERE id = ?', ['second', id]);
      });
    await Promise.all([add(1), add(2), add(3)]);
    expect(await t.db.all('SELECT id, name FROM items ORDER BY id')).toEqual([
      { id: 1, name: 'second' },
      { id: 2, name: 'second' },
      { id: 3, name: 'second' },
    ]);
  });

  it('keeps other callers out of an open transaction', async () => {
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const tx = t.db.transaction(async (tx) => {
      await tx.run('INSERT INTO items (id, name) VALUES (?, ?)', [1, 'in tx']);
      inside();
      await gate;
      throw new Error('rolled back');
    });
    await entered;
    // A read from outside during the transaction must not see its uncommitted row.
    const read = t.db.all('SELECT name FROM items');
    finish();
    await expect(tx).rejects.toThrow('rolled back');
    expect(await read).toEqual([]);
  });

  it('applies each step once, records it, and refuses steps out of order', async () => {
    expect(await appliedVersions(t.db, 'test')).toEqual([1, 2]);
    expect(await runMigrations(t.db, 'test', STEPS)).toEqual([]);
    const more = [
      ...STEPS,
      { version: 3, name: 'idx', up: 'CREATE INDEX items_by_name ON items(name)' },
    ];
    expect(await runMigrations(t.db, 'test', more)).toEqual(['0003-idx']);
    await expect(runMigrations(t.db, 'other', [STEPS[1]!, STEPS[0]!])).rejects.toThrow(
      /increasing versions/,
    );
  });

  it('leaves the schema unchanged when a step fails', async () => {
    const broken = [
      ...STEPS,
      { version: 3, name: 'ok', up: 'CREATE TABLE extra (x INTEGER)' },
      { version: 4, name: 'bad', up: 'CREATE TABLE items (x INTEGER)' },
    ];
    await expect(runMigrations(t.db, 'test', broken)).rejects.toThrow();
    expect(await appliedVersions(t.db, 'test')).toEqual([1, 2]);
    await expect(t.db.all('SELECT * FROM extra')).rejects.toThrow();
  });

  it('adopts the version an older mechanism recorded instead of running those steps again', async () => {
    const legacySteps: MigrationStep[] = [
      { version: 1, name: 'a', up: 'CREATE TABLE legacy_a (x INTEGER)' },
      { version: 2, name: 'b', up: 'CREATE TABLE legacy_b (x INTEGER)' },
    ];
    // Made by the old mechanism: step 1 ran there, so running it again would fail.
    await t.db.exec('CREATE TABLE legacy_a (x INTEGER)');
    const applied = await runMigrations(t.db, 'legacy', legacySteps, {
      legacyVersion: async () => 1,
    });
    expect(applied).toEqual(['0002-b']);
    expect(await appliedVersions(t.db, 'legacy')).toEqual([1, 2]);
    expect(await t.db.all('SELECT * FROM legacy_b')).toEqual([]);
  });
});

describe('numberPlaceholders', () => {
  it('numbers question marks outside quotes only', () => {
    expect(numberPlaceholders(`SELECT '?', "a?" FROM t WHERE x = ? AND y IN (?, ?)`)).toBe(
      `SELECT '?', "a?" FROM t WHERE x = $1 AND y IN ($2, $3)`,
    );
  });
});
