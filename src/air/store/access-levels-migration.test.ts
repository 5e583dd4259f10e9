// The access-level migration: everyone existing starts untrusted, old keys find their owner, and new people get the configured default.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConfig } from '../../config/index.ts';
import { appliedVersions, migrate, openDatabase, type SqliteSqlDb } from '../../store/index.ts';
import { openAirStore, type AirStore } from './index.ts';
import { AIR_MIGRATIONS, SQLITE_LEGACY_STEPS } from './schema.ts';

const LEVELS_VERSION = 8;

describe('air.db migration to access levels', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** An air.db of the release before levels: an admin, an analyst, keys the site and the CLI made. */
  function oldDatabase(): void {
    dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-levels-'));
    const db = openDatabase(path.join(dir, 'air.db'));
    migrate(
      db,
      SQLITE_LEGACY_STEPS.filter((m) => m.version < LEVELS_VERSION),
    );
    db.prepare("INSERT INTO organisations (id, name, created_at) VALUES ('o', 'Org', 1)").run();
    const person = db.prepare(
      'INSERT INTO analysts (id, org_id, email, name, created_at, role) VALUES (?, ?, ?, ?, ?, ?)',
    );
    person.run('a1', 'o', 'root@x.test', 'Root', 2, 'admin');
    person.run('a2', 'o', 'ada@x.test', 'Ada', 3, 'analyst');
    const key = db.prepare(
      `INSERT INTO api_keys (id, org_id, type, description, serial, created_at, expires_at)
         VALUES (?, 'o', 'task_runner', 'k', ?, 1, 9e12)`,
    );
    const created = db.prepare(
      "INSERT INTO audit_log (at, org_id, event, actor, detail) VALUES (1, 'o', 'key.created', ?, ?)",
    );
    for (const [keyId, actor] of [
      ['k-site', 'analyst:a2'],
      ['k-for', 'cli for analyst:a1'],
      ['k-cli', 'cli'],
    ] as const) {
      key.run(keyId, `serial-${keyId}`);
      created.run(actor, JSON.stringify({ key: keyId, type: 'task_runner', description: 'k' }));
    }
    db.close();
  }

  it('makes every existing person untrusted and gives old keys the owner the audit log names', async () => {
    oldDatabase();
    const store = await openAirStore(dir);
    try {
      // user_version 7 is adopted: steps 1 to 7 are not run again, 8 onwards are.
      expect(await appliedVersions(store.db, 'air')).toEqual(AIR_MIGRATIONS.map((m) => m.version));
      expect((await store.organisations.listAnalysts('o')).map((a) => a.accessLevel)).toEqual([
        'untrusted',
        'untrusted',
      ]);
      const owner = async (id: string) => (await store.keys.get('o', id))!.ownerId;
      expect(await Promise.all([owner('k-site'), owner('k-for'), owner('k-cli')])).toEqual([
        'a2',
        'a1',
        null,
      ]);
      expect(() =>
        sqliteOf(store).prepare("UPDATE analysts SET access_level = 'root' WHERE id = 'a2'").run(),
      ).toThrow(/CHECK/);
      // A promotion reaches the old key at once; the operator's key stays untrusted.
      await store.organisations.setAccessLevel('a2', 'trusted');
      expect((await store.keys.status('serial-k-site')).key!.accessLevel).toBe('trusted');
      expect((await store.keys.status('serial-k-cli')).key!.accessLevel).toBe('untrusted');
    } finally {
      await store.close();
    }
  });

  it('adds people at privacy.defaultAccessLevel, untrusted unless configured', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-levels-'));
    expect(buildConfig({}).privacy.defaultAccessLevel).toBe('untrusted');
    expect(() => buildConfig({ privacy: { defaultAccessLevel: 'root' as 'trusted' } })).toThrow(
      /privacy\.defaultAccessLevel/,
    );
    const level = buildConfig({ privacy: { defaultAccessLevel: 'trusted' } }).privacy
      .defaultAccessLevel;
    const store = await openAirStore(dir, { defaultAccessLevel: level });
    try {
      const org = await store.organisations.create('Org');
      expect((await store.organisations.addAnalyst(org.id, 't@x.test', 'T')).accessLevel).toBe(
        'trusted',
      );
      expect((await store.organisations.analystByEmail('t@x.test'))!.accessLevel).toBe('trusted');
    } finally {
      await store.close();
    }
    const plain = await openAirStore(dir);
    try {
      const org = await plain.organisations.create('Other');
      const person = await plain.organisations.addAnalyst(org.id, 'u@x.test', 'U');
      expect(person.accessLevel).toBe('untrusted');
    } finally {
      await plain.close();
    }
  });
});

/** These migrations are SQLite's own history: their checks read air.db directly. */
function sqliteOf(store: AirStore) {
  return (store.db as SqliteSqlDb).raw;
}
