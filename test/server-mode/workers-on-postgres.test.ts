// Workers on other hosts: with the cloak's data on PostgreSQL, workers holding only the noise secret publish what the embedded default does.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseSecretPath, openCloak } from '../../src/cloak/index.ts';
import { buildConfig } from '../../src/config/index.ts';
import { fill, runSequence, SETTINGS, TASKS } from './budgeted-sequence.ts';
import {
  createDatabase,
  openCoordinator,
  secretOnlyDataDir,
  startWorker,
  stopWorkers,
  testQueueSettings,
  writeWorkerConfig,
  type WorkerProcess,
} from './support.ts';

const SHARDS = 4;

/** Every file under `dir`, relative: a worker's data directory must hold the secret alone. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('workers reading the cloak data store on PostgreSQL', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'opencloak-dist-pg-'));
  const embeddedDir = path.join(root, 'embedded');
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let embedded: string[];
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    database = await createDatabase();
    // The embedded default on SQLite: its secret is the installation's, copied everywhere below.
    const alone = await openCloak(buildConfig({ ...SETTINGS, dataDir: embeddedDir }));
    try {
      await fill(alone);
      embedded = await runSequence(alone);
    } finally {
      alone.close();
    }
  });

  afterAll(async () => {
    await stopWorkers(workers);
    await database?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('a worker refuses a store the server has not prepared, and creates nothing there', async () => {
    const dataDir = secretOnlyDataDir(embeddedDir, path.join(root, 'too-early'));
    const configFile = writeWorkerConfig(root, testQueueSettings(database.url), database.url);
    await expect(startWorker(dataDir, configFile, database.url)).rejects.toThrow(
      /could not read the cloak's data store \([^)]*\/oc_dist_\w+\): it holds no data tables yet/,
    );
    expect(filesUnder(dataDir)).toEqual([path.join('secrets', 'noise.key')]);
  });

  it('a worker without the noise secret refuses to start and makes none', async () => {
    const dataDir = path.join(root, 'no-secret');
    const configFile = writeWorkerConfig(root, testQueueSettings(database.url));
    await expect(
      startWorker(dataDir, configFile, database.url, ['--store', database.url]),
    ).rejects.toThrow(/found no noise secret at .*noise\.key\. A worker never makes one/);
    expect(existsSync(noiseSecretPath(dataDir))).toBe(false);
  });

  it('publishes the same bytes with 2 workers that hold only the noise secret', async () => {
    const settings = testQueueSettings(database.url);
    // The coordinator: user data on PostgreSQL (cloak.store), the same secret, bookkeeping of its own.
    const serverDir = secretOnlyDataDir(embeddedDir, path.join(root, 'server'));
    const coordinator = await openCoordinator(serverDir, settings, SHARDS, {
      ...SETTINGS,
      cloak: { ...SETTINGS.cloak, store: database.url },
    });
    try {
      await fill(coordinator.cloak);
      // One worker finds the store in its configuration file, the other in --store.
      const dirs = ['worker-a', 'worker-b'].map((name) =>
        secretOnlyDataDir(embeddedDir, path.join(root, name)),
      );
      const mine = await Promise.all([
        startWorker(
          dirs[0]!,
          writeWorkerConfig(root, settings, database.url, 'worker-a.json'),
          database.url,
        ),
        startWorker(dirs[1]!, writeWorkerConfig(root, settings), database.url, [
          '--store',
          database.url,
        ]),
      ]);
      workers.push(...mine);
      for (const worker of mine) expect(worker.output()).toMatch(/running \(data on PostgreSQL\)/);

      const distributed = await runSequence(coordinator.cloak);
      distributed.forEach((text, i) => expect(text, TASKS[i]).toBe(embedded[i]));
      const shardsDone = mine.map((w) => (w.output().match(/ done \(/g) ?? []).length);
      expect(shardsDone.reduce((a, b) => a + b, 0)).toBe(SHARDS * TASKS.length);
      // Nothing of the store reached a worker's disk, and no password or URL its output.
      for (const dir of dirs) expect(filesUnder(dir)).toEqual([path.join('secrets', 'noise.key')]);
      for (const worker of mine) expect(worker.output()).not.toContain('postgres://');
    } finally {
      await coordinator.close();
    }
  }, 240_000);
});
