// Two cloaks on one PostgreSQL store behave as one: one budget ledger, one release epoch per organisation, each streaming arrival run once.
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import Database from 'better-sqlite3';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ANONYMIZER_SETTINGS, userKey } from '../../src/anonymizer/index.ts';
import { noiseSecretPath, openCloak, type Cloak } from '../../src/cloak/index.ts';
import { pinNoiseSecret } from '../../src/cloak/noise-secret-test-support.ts';
import { buildConfig } from '../../src/config/index.ts';
import { openPostgresDb, type SqlDb } from '../../src/store/index.ts';
import { createTestDatabase } from '../../src/store/test-support.ts';
import { priceOf } from '../../src/cloak/budget-pricing.ts';

const USERS = 300;
/**
 * Room for one fresh bucket of a third of the users (100: sd 14, 0.00255) and not for a bucket of
 * half of them (150: sd 17, 0.0017) on top.
 */
const RHO = 1.5 * priceOf(USERS / 3, DEFAULT_ANONYMIZER_SETTINGS);
/** Counts the passes that ran each user, with some work per user so that two passes overlap. */
const COUNTING_TASK = `let x = 0; for (let i = 0; i < 20000; i++) x += i % 3;
accumulator = (accumulator ?? 0) + 1;
report_property('runs', accumulator);`;

describe('two cloaks on one PostgreSQL store', () => {
  const dirs: string[] = [];
  let database: { url: string; drop(): Promise<void> };
  let a: Cloak;
  let b: Cloak;
  /** The shared database, read directly: what both cloaks stored. */
  let inspect: SqlDb;

  const config = (dir: string) =>
    buildConfig({
      dataDir: dir,
      privacy: {
        participationRho: RHO,
        // Every run overruns a 1 ms slot, so every run raises its organisation's epoch.
        releaseSchedule: true,
        releaseBaseMs: 1,
        releasePerUserMs: 0,
      },
      cloak: { sandboxProcesses: 1, store: database.url },
    });
  const newDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-two-servers-'));
    dirs.push(dir);
    return dir;
  };

  /** A user's key under the installation's secret, as the budget knows them. */
  const keyOf = (userId: string) =>
    userKey(new Uint8Array(readFileSync(noiseSecretPath(dirs[0]!))), userId);

  /** A table `t` of the organisation with USERS users, n = 0 .. USERS - 1 (plus `round`). */
  async function fill(cloak: Cloak, org: string, round = 0): Promise<void> {
    if (round === 0) {
      await cloak.data.createTable(org, { name: 't', columns: [{ name: 'n', type: 'integer' }] });
    }
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`u${u}`] = { t: [{ n: u + round }] };
    await cloak.data.insert(org, rows);
  }

  beforeAll(async () => {
    database = await createTestDatabase('oc_two_servers');
    const [dirA, dirB] = [newDir(), newDir()];
    // A fixed secret: the budget notice's noise is then the same every time (with a random one,
    // 300 users left out read below its 4-sd mark about one run in 40).
    pinNoiseSecret(dirA, 0x5e);
    a = await openCloak(config(dirA));
    // One installation: the second server gets a copy of the first's noise secret.
    mkdirSync(path.dirname(noiseSecretPath(dirB)), { recursive: true, mode: 0o700 });
    copyFileSync(noiseSecretPath(dirA), noiseSecretPath(dirB));
    b = await openCloak(config(dirB));
    inspect = openPostgresDb(database.url);
  });

  afterAll(async () => {
    await a?.streaming.stop();
    await b?.streaming.stop();
    await a?.close();
    await b?.close();
    await inspect?.close();
    await database?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the bookkeeping in the PostgreSQL database, not in either cloak.db', async () => {
    const tables = await inspect.all<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_name IN
         ('budget_pages', 'budget_runs', 'release_epochs', 'streaming_tasks', 'streaming_users')`,
    );
    expect(tables.map((t) => t.name).sort()).toEqual([
      'budget_pages',
      'budget_runs',
      'release_epochs',
      'streaming_tasks',
      'streaming_users',
    ]);
    const local = await a.sql.all<{ name: string }>(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE 'budget%'",
    );
    expect(local).toEqual([]);
  });

  it('charges one budget: users exhausted through the first server are exhausted on the second', async () => {
    const org = 'org-budget';
    await fill(a, org);
    const thirds = {
      code: "report_property('third', tables.t[0].n % 3)",
      prefetch: [{ table: 't' }],
    };
    const first = await a.runner.run(org, thirds);
    expect(first.buckets.filter((bucket) => bucket.label === 'third')).toHaveLength(3);
    expect(first.budget?.period_run).toBe(1);

    // Every user paid for one bucket through A, and B reads the same spending.
    const user = keyOf('u7');
    const spentOnA = await a.budget!.spent(org, user);
    expect(spentOnA).toBeGreaterThan(0);
    expect(await b.budget!.spent(org, user)).toBe(spentOnA);
    // The same question through B is A's sticky rerun: the same buckets, charged nothing.
    const rerun = await b.runner.run(org, thirds);
    expect(rerun.buckets).toEqual(first.buckets);
    expect(await a.budget!.spent(org, user)).toBe(spentOnA);

    // A fresh question through B: nobody can afford its buckets, and the notice says so.
    const second = await b.runner.run(org, {
      code: "report_property('half', tables.t[0].n % 2)",
      prefetch: [{ table: 't' }],
    });
    expect(second.buckets.filter((bucket) => bucket.label === 'half')).toEqual([]);
    expect(second.budget?.period_run).toBe(3);
    expect(second.budget?.may_be_low).toBe(true);
  });

  it('raises one release epoch per organisation: a misprediction on the first slows the second', async () => {
    const org = 'org-release';
    await fill(a, org);
    expect(await b.release!.epochOf(org)).toBe(0);
    await a.runner.run(org, { code: "report_property('one', 1)", prefetch: [{ table: 't' }] });
    const epoch = await a.release!.epochOf(org);
    expect(epoch).toBeGreaterThan(0);
    expect(await b.release!.epochOf(org)).toBe(epoch);
  });

  it('runs each arrival once when both servers start a streaming pass at the same moment', async () => {
    const org = 'org-stream';
    const task = 'task-stream';
    await fill(a, org);
    const spec = { code: COUNTING_TASK, prefetch: [{ table: 't' }] };
    // Validated on the PostgreSQL store too: a refused task is its caller's error, not the passes'.
    await expect(
      a.streaming.register(org, 'task-refused', { code: spec.code, prefetch: [{ table: 'nope' }] }),
    ).rejects.toThrow(/nope/);
    await a.streaming.register(org, task, spec);
    await b.streaming.register(org, task, spec);

    /** How many users' accumulators counted how many passes. */
    const passesPerUser = () =>
      inspect.all<{ passes: string; users: number }>(
        `SELECT accumulator AS passes, count(*) AS users FROM streaming_users
         WHERE task_key = ? GROUP BY accumulator ORDER BY accumulator`,
        [task],
      );
    const bothAtOnce = async () => {
      const [onA, onB] = await Promise.all([a.streaming.process(), b.streaming.process()]);
      return onA + onB;
    };

    expect(await bothAtOnce()).toBe(USERS);
    expect(await passesPerUser()).toEqual([{ passes: '1', users: USERS }]);
    await fill(b, org, 1);
    expect(await bothAtOnce()).toBe(USERS);
    expect(await passesPerUser()).toEqual([{ passes: '2', users: USERS }]);

    // One report through each server: the same published counts, charged once.
    const fromA = await a.streaming.report(org, task, 3600);
    expect(fromA.buckets).toEqual([expect.objectContaining({ label: 'runs', value: '2' })]);
    const user = keyOf('u7');
    const spent = await a.budget!.spent(org, user);
    expect(spent).toBeGreaterThan(0);
    expect(await b.budget!.spent(org, user)).toBe(spent);
    const fromB = await b.streaming.report(org, task, 3600);
    expect(fromB.buckets).toEqual(fromA.buckets);
    expect(fromB.budget?.period_run).toBe(2);
    expect(await a.budget!.spent(org, user)).toBe(spent);
  });

  it('refuses a data directory whose cloak.db still holds bookkeeping: it would be forgotten', async () => {
    const dir = newDir();
    const embedded = await openCloak(buildConfig({ dataDir: dir }));
    try {
      await embedded.data.createTable('org-local', {
        name: 't',
        columns: [{ name: 'n', type: 'integer' }],
      });
      await embedded.streaming.register('org-local', 'task-local', {
        code: "report_property('one', 1)",
        prefetch: [{ table: 't' }],
      });
    } finally {
      await embedded.close();
    }
    await expect(openCloak(config(dir))).rejects.toMatchObject({
      code: 'CLOAK_BOOKKEEPING_LEFT_LOCAL',
    });
  });

  it('refuses a cloak.db of an older release whose users’ spending is still one row each', async () => {
    const dir = newDir();
    // budget_users, as releases before budget pages left it: spending without a settled run.
    const file = new Database(path.join(dir, 'cloak.db'));
    file.exec(`CREATE TABLE budget_users (org_id TEXT NOT NULL, user_hash BLOB NOT NULL,
      spent REAL NOT NULL, exhausted_seq INTEGER, exhausted_idx INTEGER,
      period INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (org_id, user_hash)) STRICT, WITHOUT ROWID`);
    file
      .prepare('INSERT INTO budget_users VALUES (?, ?, ?, NULL, NULL, 0)')
      .run('org-old', randomBytes(16), 0.005);
    file.close();
    await expect(openCloak(config(dir))).rejects.toMatchObject({
      code: 'CLOAK_BOOKKEEPING_LEFT_LOCAL',
      message: expect.stringContaining('budget_users'),
    });
  });

  it("refuses a server whose noise secret is not the installation's", async () => {
    const dir = newDir();
    mkdirSync(path.dirname(noiseSecretPath(dir)), { recursive: true, mode: 0o700 });
    writeFileSync(noiseSecretPath(dir), randomBytes(32), { mode: 0o600 });
    await expect(openCloak(config(dir))).rejects.toMatchObject({ code: 'NOISE_SECRET_MISMATCH' });
  });

  it('refuses a third server without the noise secret: it would key users differently', async () => {
    await a.data.createTable('org-secret', {
      name: 't',
      columns: [{ name: 'n', type: 'integer' }],
    });
    const dir = newDir();
    await expect(openCloak(config(dir))).rejects.toMatchObject({ code: 'NOISE_SECRET_MISSING' });
    expect(existsSync(noiseSecretPath(dir))).toBe(false);
  });
});
