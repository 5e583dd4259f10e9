// The data owner migration: an air.db from before it keeps its people, roles and sessions.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appliedVersions,
  migrate,
  openDatabase,
  type Db,
  type SqliteSqlDb,
} from '../../store/index.ts';
import { openAirStore, type AirStore } from './index.ts';
import { AIR_MIGRATIONS, SQLITE_LEGACY_STEPS } from './schema.ts';

const ROLES_VERSION = 7;

describe('air.db migration to roles with data owners', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** An air.db as the release before data owners left it: an admin, an analyst, a session. */
  function oldDatabase(): Db {
    dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-roles-'));
    const db = openDatabase(path.join(dir, 'air.db'));
    migrate(
      db,
      SQLITE_LEGACY_STEPS.filter((m) => m.version < ROLES_VERSION),
    );
    db.prepare("INSERT INTO organisations (id, name, created_at) VALUES ('o', 'Org', 1)").run();
    const person = db.prepare(
      'INSERT INTO analysts (id, org_id, email, name, created_at, role, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    person.run('a1', 'o', 'root@x.test', 'Root', 2, 'admin', 'hash-1');
    person.run('a2', 'o', 'ada@x.test', 'Ada', 3, 'analyst', 'hash-2');
    db.prepare(
      "INSERT INTO sessions (token_hash, analyst_id, csrf_token, created_at, last_seen_at) VALUES ('t', 'a2', 'c', 4, 5)",
    ).run();
    expect(() =>
      db.prepare("UPDATE analysts SET role = 'data_owner' WHERE id = 'a2'").run(),
    ).toThrow(/CHECK/);
    return db;
  }

  it('keeps every person with their role and password, and every session', async () => {
    oldDatabase().close();
    const store = await openAirStore(dir);
    try {
      // The old user_version is adopted by the shared runner, which then applies the rest.
      expect(await appliedVersions(store.db, 'air')).toEqual(AIR_MIGRATIONS.map((m) => m.version));
      expect(await store.organisations.analyst('a1')).toMatchObject({
        role: 'admin',
        email: 'root@x.test',
      });
      expect(await store.organisations.analyst('a2')).toMatchObject({
        role: 'analyst',
        name: 'Ada',
      });
      expect((await store.organisations.findLogin('ADA@x.test'))?.passwordHash).toBe('hash-2');
      expect(sqliteOf(store).prepare('SELECT analyst_id FROM sessions').all()).toEqual([
        { analyst_id: 'a2' },
      ]);
      expect(await store.organisations.setRole('a2', 'data_owner')).toBe(true);
      expect((await store.organisations.analyst('a2'))?.role).toBe('data_owner');
      expect(() =>
        sqliteOf(store).prepare("UPDATE analysts SET role = 'owner' WHERE id = 'a2'").run(),
      ).toThrow(/CHECK/);
      // The rebuilt table still cascades: deleting the organisation removes its people.
      sqliteOf(store).prepare("DELETE FROM organisations WHERE id = 'o'").run();
      expect(sqliteOf(store).prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 0 });
      expect(sqliteOf(store).pragma('foreign_key_check')).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

/** These migrations are SQLite's own history: their checks read air.db directly. */
function sqliteOf(store: AirStore) {
  return (store.db as SqliteSqlDb).raw;
}
