// Server mode publishes byte for byte what the embedded default publishes: 1, 2 and 4 worker processes, budget included.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCloak } from '../../src/cloak/index.ts';
import { buildConfig } from '../../src/config/index.ts';
import { fill, runSequence, SETTINGS, TASKS } from './budgeted-sequence.ts';
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

const SHARDS = 4;

describe('server mode and the embedded default', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'opencloak-dist-same-'));
  const seed = path.join(root, 'seed');
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let embedded: string[];
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    database = await createDatabase();
    const cloak = await openCloak(buildConfig({ ...SETTINGS, dataDir: seed }));
    await fill(cloak);
    await cloak.close();
    const alone = await openCloak(
      buildConfig({ ...SETTINGS, dataDir: copyDataDir(seed, path.join(root, 'embedded')) }),
    );
    try {
      embedded = await runSequence(alone);
    } finally {
      await alone.close();
    }
  });

  afterAll(async () => {
    await stopWorkers(workers);
    await database?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('the sequence means something: buckets, exceptions and users left out by the budget', () => {
    const results = embedded.map(
      (text) => JSON.parse(text) as { buckets: unknown[]; exceptions: unknown[] },
    );
    expect(results.every((r) => r.buckets.length > 0)).toBe(true);
    expect(results[2]!.exceptions.length).toBeGreaterThan(0);
    // The rerun of the first task is sticky: the same buckets, for free.
    expect(JSON.parse(embedded[7]!).buckets).toEqual(JSON.parse(embedded[0]!).buckets);
    const notices = results.map((r) => (r as { budget?: { leftOut?: number } }).budget);
    expect(notices.every((n) => n !== undefined)).toBe(true);
  });

  it.each([1, 2, 4])(
    'publishes the same bytes with %i worker process(es)',
    async (count) => {
      const dataDir = copyDataDir(seed, path.join(root, `workers-${count}`));
      const settings = testQueueSettings(database.url);
      const configFile = writeWorkerConfig(root, settings);
      const mine = await Promise.all(
        Array.from({ length: count }, () => startWorker(dataDir, configFile, database.url)),
      );
      workers.push(...mine);
      // Shards in any order, several per worker when there are fewer workers than shards.
      const coordinator = await openCoordinator(dataDir, settings, SHARDS, SETTINGS);
      try {
        const distributed = await runSequence(coordinator.cloak);
        distributed.forEach((text, i) => expect(text, TASKS[i]).toBe(embedded[i]));
        // Every worker did work when there are several (the queue spread the shards).
        const shardsDone = mine.map((w) => (w.output().match(/ done \(/g) ?? []).length);
        expect(shardsDone.reduce((a, b) => a + b, 0)).toBe(SHARDS * TASKS.length);
      } finally {
        await coordinator.close();
        await stopWorkers(mine);
      }
    },
    240_000,
  );
});
