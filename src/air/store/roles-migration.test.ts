// The data owner migration: an air.db from before it keeps its people, roles and sessions.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../store/index.ts';
import { openAirStore } from './index.ts';
import { AIR_MIGRATIONS } from './schema.ts';

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
      AIR_MIGRATIONS.filter((m) => m.version < ROLES_VERSION),
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

  it('keeps every person with their role and password, and every session', () => {
    oldDatabase().close();
    const store = openAirStore(dir);
    try {
      expect(store.db.pragma('user_version', { simple: true })).toBe(
        AIR_MIGRATIONS.at(-1)!.version,
      );
      expect(store.organisations.analyst('a1')).toMatchObject({
        role: 'admin',
        email: 'root@x.test',
      });
      expect(store.organisations.analyst('a2')).toMatchObject({ role: 'analyst', name: 'Ada' });
      expect(store.organisations.findLogin('ADA@x.test')?.passwordHash).toBe('hash-2');
      expect(store.db.prepare('SELECT analyst_id FROM sessions').all()).toEqual([
        { analyst_id: 'a2' },
      ]);
      expect(store.organisations.setRole('a2', 'data_owner')).toBe(true);
      expect(store.organisations.analyst('a2')?.role).toBe('data_owner');
      expect(() =>
        store.db.prepare("UPDATE analysts SET role = 'owner' WHERE id = 'a2'").run(),
      ).toThrow(/CHECK/);
      // The rebuilt table still cascades: deleting the organisation removes its people.
      store.db.prepare("DELETE FROM organisations WHERE id = 'o'").run();
      expect(store.db.prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 0 });
      expect(store.db.pragma('foreign_key_check')).toEqual([]);
    } finally {
      store.close();
    }
  });
});
