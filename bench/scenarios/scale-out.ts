// Scenario: a batch task's users/s on 1, 2 and 4 `opencloak worker` processes against the embedded run, in one run.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  openCloak,
  openQueue,
  SharedRunCap,
  ShardCoordinator,
  type Cloak,
} from '../../src/cloak/index.ts';
import { buildConfig, type ConfigInput } from '../../src/config/index.ts';
import { DEMO_TABLES, syntheticBatches } from '../../src/demo/synthetic-data.ts';
import { createTestDatabase } from '../../src/store/test-support.ts';
import type { BenchSize, Scenario } from '../harness.ts';
import { BATCH_TASK_CODE, BATCH_TASK_PREFETCH } from './batch-task.ts';

const ORG = 'bench-org';
const USERS: Record<BenchSize, number> = { small: 5_000, full: 50_000 };
const WORKERS = [1, 2, 4];
/** Enough shards that 4 workers all have work, few enough that a shard's start-up stays small. */
const SHARDS = 8;
const ROOT = path.resolve(import.meta.dirname, '../..');
/** One sandbox process per embedded run and per worker: each stands for one core. */
const SETTINGS: ConfigInput = {
  privacy: { releaseSchedule: false },
  cloak: { sandboxProcesses: 1 },
};

async function seedDir(users: number): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-scale-'));
  const seed = path.join(dir, 'seed');
  const cloak = await openCloak(buildConfig({ ...SETTINGS, dataDir: seed }));
  for (const table of DEMO_TABLES) await cloak.data.createTable(ORG, table);
  for (const batch of syntheticBatches(users, 5000)) await cloak.data.insert(ORG, batch);
  await cloak.close();
  return dir;
}

async function timed(users: number, cloak: Cloak): Promise<number> {
  const started = process.hrtime.bigint();
  await cloak.runner.run(ORG, { code: BATCH_TASK_CODE, prefetch: BATCH_TASK_PREFETCH });
  return users / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** The embedded default on a fresh copy of the data: every side starts from the same budget. */
async function embedded(root: string, users: number, overrides: ConfigInput): Promise<number> {
  const dataDir = path.join(root, `embedded-${randomBytes(3).toString('hex')}`);
  cpSync(path.join(root, 'seed'), dataDir, { recursive: true });
  const cloak = await openCloak(buildConfig({ ...SETTINGS, ...overrides, dataDir }));
  try {
    return await timed(users, cloak);
  } finally {
    await cloak.close();
  }
}

function startWorker(
  dataDir: string,
  configFile: string,
  url: string,
  args: readonly string[] = [],
): Promise<ChildProcess> {
  const tsx = import.meta.resolve('tsx');
  const child = spawn(
    process.execPath,
    [
      '--no-node-snapshot',
      '--import',
      tsx,
      path.join(ROOT, 'src/cli/main.ts'),
      '--data-dir',
      dataDir,
      '--config',
      configFile,
      ...args,
      'worker',
      '--queue',
      url,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('worker is running')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
  });
}

/**
 * A run on `workers` worker processes. On SQLite the coordinator and the workers share a copy of
 * the seeded data directory (same host). On PostgreSQL (`cloak.store`, the server-mode
 * deployment) one database holds the data, the bookkeeping and the queue, and every process's
 * data directory holds only the noise secret; loading the rows there is not timed.
 */
async function distributed(
  root: string,
  users: number,
  workers: number,
  onPostgres = false,
): Promise<number> {
  const database = await createTestDatabase(onPostgres ? 'oc_dist_bench_pg' : 'oc_dist_bench');
  const settings = {
    url: database.url,
    shardTimeoutSeconds: 3600,
    shardRetries: 0,
    pollingSeconds: 0.5,
  };
  const copyOfSeed = (name: string, part = '') => {
    const dir = path.join(root, name);
    cpSync(path.join(root, 'seed', part), path.join(dir, part), { recursive: true });
    return dir;
  };
  const place = onPostgres ? 'postgres' : 'sqlite';
  const dataDir = copyOfSeed(`${place}-coordinator-${workers}`, onPostgres ? 'secrets' : '');
  const store = onPostgres ? { cloak: { ...SETTINGS.cloak, store: database.url } } : {};
  const boss = await openQueue(settings);
  const runCap = new SharedRunCap(settings.url, 2);
  const cloak = await openCloak(buildConfig({ ...SETTINGS, ...store, dataDir }), {
    serverMode: { shards: new ShardCoordinator(boss, { settings, shards: SHARDS }), runCap },
  });
  const children: ChildProcess[] = [];
  try {
    if (onPostgres) {
      for (const table of DEMO_TABLES) await cloak.data.createTable(ORG, table);
      for (const batch of syntheticBatches(users, 5000)) await cloak.data.insert(ORG, batch);
    }
    const configFile = path.join(root, 'worker.json');
    writeFileSync(
      configFile,
      JSON.stringify({ queue: { workerProcesses: 1, pollingSeconds: 0.5 } }),
    );
    for (let w = 0; w < workers; w++) {
      children.push(
        onPostgres
          ? await startWorker(
              copyOfSeed(`postgres-worker-${workers}-${w}`, 'secrets'),
              configFile,
              settings.url,
              ['--store', database.url],
            )
          : await startWorker(dataDir, configFile, settings.url),
      );
    }
    return await timed(users, cloak);
  } finally {
    await cloak.close();
    await boss.stop({ graceful: false, wait: true });
    await runCap.close();
    for (const child of children) child.kill('SIGKILL');
    await database.drop();
  }
}

export const scaleOutScenario: Scenario = {
  name: 'scale-out',
  description: `a batch task on 1, 2 and 4 worker processes (one sandbox each, ${SHARDS} shards) vs the embedded run with one sandbox process, on ${availableParallelism()} cores`,
  better: 'higher',
  // The target: at least 0.8x per added core, up to the machine's cores.
  targetRatio: 0.8 * Math.min(2, availableParallelism()),
  sides: {
    // Everything in one process, one after the other on the same data: the ratios in the notes
    // compare runs of one moment of a shared machine.
    figure: async (size) => {
      const users = USERS[size];
      const root = await seedDir(users);
      try {
        const alone = await embedded(root, users, {});
        const perWorkers: Record<string, number> = {};
        for (const n of WORKERS) perWorkers[n] = await distributed(root, users, n);
        const cores = Math.min(availableParallelism(), 2);
        const notes: Record<string, number> = { embeddedUsersPerSecond: Math.round(alone) };
        for (const n of WORKERS) {
          notes[`workers${n}UsersPerSecond`] = Math.round(perWorkers[n]!);
          notes[`workers${n}Ratio`] = Number((perWorkers[n]! / alone).toFixed(2));
        }
        // The server-mode deployment, 2 workers: against the same embedded run.
        const onPostgres = await distributed(root, users, 2, true);
        notes.postgresWorkers2UsersPerSecond = Math.round(onPostgres);
        notes.postgresWorkers2Ratio = Number((onPostgres / alone).toFixed(2));
        return { value: perWorkers[cores]!, unit: 'users/s', notes };
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
    // The embedded run on one sandbox process: what one core does without the queue.
    baseline: async (size) => {
      const users = USERS[size];
      const root = await seedDir(users);
      try {
        return { value: await embedded(root, users, {}), unit: 'users/s' };
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  },
};
