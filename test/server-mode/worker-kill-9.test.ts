// kill -9 of a worker mid-shard: the queue retries its shard, the result is the embedded one, nobody is charged twice.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userKey } from '../../src/anonymizer/index.ts';
import { noiseSecretPath, openCloak, type Cloak } from '../../src/cloak/index.ts';
import { buildConfig, type ConfigInput } from '../../src/config/index.ts';
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
const USERS = 400;
const SETTINGS: ConfigInput = {
  privacy: { releaseSchedule: false, participationRho: 0.3 },
  cloak: { sandboxProcesses: 1 },
};
/** Each user's run does some work, so that a shard is still running when its worker is killed. */
const SLOW = `let spin = 0; for (let i = 0; i < 200000; i++) spin += i % 7;`;
const TASKS = [
  `${SLOW} for (const p of tables.visits) report_property('page', p.page);`,
  `for (const p of tables.visits) report_property('bin', p.page + ':' + (p.ms % 9));`,
];

async function fill(cloak: Cloak): Promise<void> {
  await cloak.data.createTable(ORG, {
    name: 'visits',
    columns: [
      { name: 'page', type: 'text' },
      { name: 'ms', type: 'integer' },
    ],
  });
  const payload: Record<string, unknown> = {};
  for (let u = 0; u < USERS; u++) {
    payload[`user-${u}`] = {
      visits: [
        { page: ['home', 'cart', 'help'][u % 3], ms: (u * 37) % 1000 },
        { page: ['home', 'about'][u % 2], ms: (u * 91) % 1000 },
      ],
    };
  }
  await cloak.data.insert(ORG, payload);
}

async function runAll(cloak: Cloak): Promise<string[]> {
  const out: string[] = [];
  for (const code of TASKS) {
    out.push(
      JSON.stringify(await cloak.runner.run(ORG, { code, prefetch: [{ table: 'visits' }] })),
    );
  }
  return out;
}

/** Every user's spent budget, in user order: a user charged twice would show here. */
async function spending(cloak: Cloak, dataDir: string): Promise<number[]> {
  const secret = new Uint8Array(readFileSync(noiseSecretPath(dataDir)));
  return Promise.all(
    Array.from({ length: USERS }, (_, u) => cloak.budget!.spent(ORG, userKey(secret, `user-${u}`))),
  );
}

describe('a worker killed with SIGKILL in the middle of a shard', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'opencloak-dist-kill9-'));
  const seed = path.join(root, 'seed');
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let embedded: { results: string[]; spent: number[] };
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    database = await createDatabase();
    const cloak = await openCloak(buildConfig({ ...SETTINGS, dataDir: seed }));
    await fill(cloak);
    await cloak.close();
    const dir = copyDataDir(seed, path.join(root, 'embedded'));
    const alone = await openCloak(buildConfig({ ...SETTINGS, dataDir: dir }));
    try {
      embedded = { results: await runAll(alone), spent: await spending(alone, dir) };
    } finally {
      await alone.close();
    }
  });

  afterAll(async () => {
    await stopWorkers(workers);
    await database?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('has its shard retried elsewhere, and the run publishes and charges as in-process', async () => {
    const dataDir = copyDataDir(seed, path.join(root, 'queue'));
    // Lost shards come back after 20 s; a live shard, even on a loaded machine, finishes before
    // (pg-boss also fails a live shard that runs past it).
    const settings = testQueueSettings(database.url, 20);
    const configFile = writeWorkerConfig(root, settings);
    const [victim, survivor] = await Promise.all([
      startWorker(dataDir, configFile, database.url),
      startWorker(dataDir, configFile, database.url),
    ]);
    workers.push(victim!, survivor!);
    const coordinator = await openCoordinator(dataDir, settings, 2, SETTINGS);
    try {
      const first = coordinator.cloak.runner.run(ORG, {
        code: TASKS[0]!,
        prefetch: [{ table: 'visits' }],
      });
      await victim!.waitFor(/shard \d\/2 started/);
      const shard = /shard (\d)\/2 started/.exec(victim!.output())![1]!;
      victim!.child.kill('SIGKILL');
      const results = [JSON.stringify(await first)];
      // The killed worker never finished its shard; the survivor ran it after the expiry.
      expect(victim!.output()).not.toMatch(new RegExp(`shard ${shard}/2 done`));
      expect(survivor!.output()).toMatch(new RegExp(`shard ${shard}/2 done`));
      // The next run sees the budget the first one left: charged once, not twice.
      results.push(
        JSON.stringify(
          await coordinator.cloak.runner.run(ORG, {
            code: TASKS[1]!,
            prefetch: [{ table: 'visits' }],
          }),
        ),
      );
      expect(results).toEqual(embedded.results);
      expect(await spending(coordinator.cloak, dataDir)).toEqual(embedded.spent);
      expect(embedded.spent.some((spent) => spent > 0)).toBe(true);
    } finally {
      await coordinator.close();
    }
  }, 300_000);
});
