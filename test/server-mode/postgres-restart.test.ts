// PostgreSQL cuts every connection in the middle of a distributed run, as a restart does: the run resumes with the embedded result or fails cleanly, nothing half-published, nobody charged.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userKey } from '../../src/anonymizer/index.ts';
import { noiseSecretPath, openCloak, type Cloak } from '../../src/cloak/index.ts';
import { buildConfig, type ConfigInput } from '../../src/config/index.ts';
import { AppError } from '../../src/errors/index.ts';
import { TEST_POSTGRES_SERVER } from '../../src/store/test-support.ts';
import {
  copyDataDir,
  createDatabase,
  openCoordinator,
  startWorker,
  stopWorkers,
  testQueueSettings,
  writeWorkerConfig,
  type WorkerProcess,
} from './support.ts';

const ORG = 'acme';
const USERS = 120;
const SETTINGS: ConfigInput = {
  privacy: { releaseSchedule: false, participationRho: 0.3 },
  cloak: { sandboxProcesses: 1 },
};
/** Each user's run does some work, so that the lock below is taken while a shard is running. */
const TASK = {
  code: `let spin = 0; for (let i = 0; i < 500000; i++) spin += i % 7;
for (const p of tables.visits) report_property('page', p.page);`,
  prefetch: [{ table: 'visits' }],
};
/** Trust authentication ignores it; it is there to be kept out of every message. */
const PASSWORD = 'never-in-a-message';

async function fill(cloak: Cloak): Promise<void> {
  await cloak.data.createTable(ORG, { name: 'visits', columns: [{ name: 'page', type: 'text' }] });
  const payload: Record<string, unknown> = {};
  for (let u = 0; u < USERS; u++) {
    payload[`user-${u}`] = { visits: [{ page: ['home', 'cart', 'help'][u % 3] }] };
  }
  await cloak.data.insert(ORG, payload);
}

/** Every user's spent budget, in user order. */
async function spending(cloak: Cloak, dataDir: string): Promise<number[]> {
  const secret = new Uint8Array(readFileSync(noiseSecretPath(dataDir)));
  return Promise.all(
    Array.from({ length: USERS }, (_, u) => cloak.budget!.spent(ORG, userKey(secret, `user-${u}`))),
  );
}

/** A session on the server's maintenance database: it must outlive the cut of the test database. */
async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: `${TEST_POSTGRES_SERVER}/postgres` });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Waits until PostgreSQL shows a session of `database` waiting on a lock with a query like `pattern`. */
async function waitingOnLock(admin: pg.Client, database: string, pattern: string): Promise<void> {
  for (;;) {
    const { rows } = await admin.query(
      `SELECT 1 FROM pg_stat_activity
       WHERE datname = $1 AND wait_event_type = 'Lock' AND query ILIKE $2`,
      [database, pattern],
    );
    if (rows.length > 0) return;
    await sleep(50);
  }
}

/** `work`, or the worker's death with what it wrote, whichever comes first. */
function whileAlive<T>(worker: WorkerProcess, work: Promise<T>): Promise<T> {
  const died = new Promise<never>((_, reject) => {
    const fail = () => reject(new Error(`the worker died:\n${worker.output()}`));
    if (worker.child.exitCode !== null || worker.child.signalCode !== null) fail();
    else worker.child.once('exit', fail);
  });
  return Promise.race([work, died]);
}

describe('PostgreSQL restarting in the middle of a distributed run', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'opencloak-dist-pgrestart-'));
  const seed = path.join(root, 'seed');
  let database: Awaited<ReturnType<typeof createDatabase>>;
  /** The task run twice in-process: its result, its sticky rerun, and the spending after each. */
  let embedded: { results: string[]; spent: number[][] };
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    database = await createDatabase();
    const cloak = await openCloak(buildConfig({ ...SETTINGS, dataDir: seed }));
    await fill(cloak);
    await cloak.close();
    const dir = copyDataDir(seed, path.join(root, 'embedded'));
    const alone = await openCloak(buildConfig({ ...SETTINGS, dataDir: dir }));
    embedded = { results: [], spent: [await spending(alone, dir)] };
    try {
      for (let i = 0; i < 2; i++) {
        embedded.results.push(JSON.stringify(await alone.runner.run(ORG, TASK)));
        embedded.spent.push(await spending(alone, dir));
      }
    } finally {
      await alone.close();
    }
  });

  afterAll(async () => {
    await stopWorkers(workers);
    await database?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('resumes or fails with a clear error, publishes all or nothing, and the worker lives on', async () => {
    const dataDir = copyDataDir(seed, path.join(root, 'queue'));
    const url = new URL(database.url);
    url.password = PASSWORD;
    const name = url.pathname.slice(1);
    // A shard whose completion was lost comes back after 20 s.
    const settings = testQueueSettings(url.toString(), 20);
    const worker = await startWorker(dataDir, writeWorkerConfig(root, settings), settings.url);
    workers.push(worker);
    const coordinator = await openCoordinator(dataDir, settings, 2, SETTINGS);
    const admin = await adminClient();
    const locker = new pg.Client({ connectionString: database.url });
    locker.on('error', () => undefined);
    try {
      const run = coordinator.cloak.runner.run(ORG, TASK).then(
        (result) => ({ result: JSON.stringify(result) }),
        (error: unknown) => ({ error }),
      );
      await worker.waitFor(/shard \d\/2 started/);
      // Hold the queue's jobs still while the shard runs: the worker's completion of it and
      // the coordinator's next poll wait on the lock, in flight when the connections go.
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE opencloak_queue.job IN ACCESS EXCLUSIVE MODE');
      await waitingOnLock(admin, name, "%state = 'completed',%output = $3%");
      await waitingOnLock(admin, name, '%WHERE name = $1 AND id = $2%');
      // What a restart does to every session (the lock goes with its own).
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      const outcome = await run;
      const spent = await spending(coordinator.cloak, dataDir);
      let rerun: string;
      if ('result' in outcome) {
        // Resumed: the very result and charges of the in-process run.
        expect(outcome.result).toBe(embedded.results[0]);
        expect(spent).toEqual(embedded.spent[1]);
        rerun = embedded.results[1]!;
      } else {
        // Failed: a clear error that names the queue but not its password, and no trace of the run.
        const error = outcome.error as AppError;
        expect(error).toBeInstanceOf(AppError);
        expect(error.code).toBe('RUN_QUEUE_UNAVAILABLE');
        expect(error.message).toContain(`127.0.0.1:5432/${name}`);
        expect(error.message).toContain('nothing was published');
        expect(error.message).not.toContain(PASSWORD);
        expect(spent).toEqual(embedded.spent[0]);
        rerun = embedded.results[0]!;
      }
      // The worker rode it out (a dead one would leave the next run waiting for its timeout),
      // and the installation runs on as if nothing had happened.
      const next = coordinator.cloak.runner.run(ORG, TASK);
      expect(JSON.stringify(await whileAlive(worker, next))).toBe(rerun);
      // The operator sees why the shard was late: the lost queue, named without its password.
      expect(worker.output()).toContain(`the job queue (127.0.0.1:5432/${name}) failed: `);
      expect(worker.output()).not.toContain(PASSWORD);
    } finally {
      await locker.end().catch(() => undefined);
      await admin.end();
      await coordinator.close();
    }
  }, 240_000);
});
