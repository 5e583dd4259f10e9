// Server mode publishes byte for byte what the embedded default publishes: 1, 2 and 4 worker
// processes, over budgeted one-off runs, a periodic task's runs and a streaming task's reports.
//
// The periodic runs start from the scheduler's tick (with a fixed clock) and go through the
// workers like any script run. Streaming passes and reports do not: they run in the coordinator's
// process in server mode too (docs/server-mode.md, "Not done yet"), so their check here is that
// the coordinator's budget, shared with the distributed runs, settles them as in-process.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrive, fill, runSequence, SETTINGS, TASKS } from './budgeted-sequence.ts';
import { createScheduledTasks, runScheduled, type ScheduledTasks } from './scheduled-sequence.ts';
import {
  copyDataDir,
  createDatabase,
  openEmbeddedPlatform,
  openServerPlatform,
  startWorker,
  stopWorkers,
  testQueueSettings,
  writeWorkerConfig,
  type TestPlatform,
  type WorkerProcess,
} from './support.ts';

const SHARDS = 4;

/** The whole sequence: the budgeted one-off runs, then the scheduled ones, on what they left. */
async function runAll(
  { platform, scheduler }: TestPlatform,
  orgId: string,
  scheduled: ScheduledTasks,
): Promise<string[]> {
  const published = await runSequence(platform.cloak, orgId);
  const arrival = () => arrive(platform.cloak, orgId);
  published.push(...(await runScheduled(platform, scheduler, orgId, scheduled, arrival)));
  return published;
}

/** What each published result is, for failure messages: a budgeted task or a scheduled result. */
const NAMES = [
  ...TASKS,
  'periodic run 1',
  'periodic run 2',
  'streaming report 1',
  'streaming report 2',
];

describe('server mode and the embedded default', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'opencloak-dist-same-'));
  const seed = path.join(root, 'seed');
  const databases: Array<Awaited<ReturnType<typeof createDatabase>>> = [];
  let orgId: string;
  let scheduled: ScheduledTasks;
  let embedded: string[];
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    // The seed holds the organisation, its data, both scheduled tasks, the secret and the CA;
    // every mode runs on a copy of it.
    const prepared = await openEmbeddedPlatform(seed, SETTINGS);
    try {
      orgId = (await prepared.platform.air.organisations.create('Acme')).id;
      await fill(prepared.platform.cloak, orgId);
      scheduled = await createScheduledTasks(prepared.platform, orgId);
    } finally {
      await prepared.close();
    }
    const alone = await openEmbeddedPlatform(
      copyDataDir(seed, path.join(root, 'embedded')),
      SETTINGS,
    );
    try {
      embedded = await runAll(alone, orgId, scheduled);
    } finally {
      await alone.close();
    }
  });

  afterAll(async () => {
    await stopWorkers(workers);
    await Promise.all(databases.map((d) => d.drop()));
    rmSync(root, { recursive: true, force: true });
  });

  it('the sequence means something: buckets, exceptions, users left out, scheduled results', () => {
    const results = embedded.map(
      (text) => JSON.parse(text) as { buckets: unknown[]; exceptions: unknown[] },
    );
    expect(NAMES).toHaveLength(embedded.length);
    expect(results.every((r) => r.buckets.length > 0)).toBe(true);
    expect(results[2]!.exceptions.length).toBeGreaterThan(0);
    // The rerun of the first task is sticky: the same buckets, for free.
    expect(JSON.parse(embedded[7]!).buckets).toEqual(JSON.parse(embedded[0]!).buckets);
    const notices = results.map((r) => (r as { budget?: { leftOut?: number } }).budget);
    expect(notices.every((n) => n !== undefined)).toBe(true);
    // The second periodic run saw the rows that arrived after the first.
    expect(embedded[TASKS.length + 1]).not.toBe(embedded[TASKS.length]);
    // The second streaming report counts a second pass for the users with new rows.
    expect(embedded[TASKS.length + 3]).toContain('"passes"');
    expect(embedded[TASKS.length + 3]).not.toBe(embedded[TASKS.length + 2]);
  });

  it.each([1, 2, 4])(
    'publishes the same bytes with %i worker process(es)',
    async (count) => {
      const dataDir = copyDataDir(seed, path.join(root, `workers-${count}`));
      // Each case is an installation of its own, with its own queue: they share the copied
      // tasks' ids, and one database's period lease would let only the first run each period.
      const database = await createDatabase();
      databases.push(database);
      const settings = testQueueSettings(database.url);
      const configFile = writeWorkerConfig(root, settings);
      const mine = await Promise.all(
        Array.from({ length: count }, () => startWorker(dataDir, configFile, database.url)),
      );
      workers.push(...mine);
      // Shards in any order, several per worker when there are fewer workers than shards.
      const coordinator = await openServerPlatform(dataDir, settings, SHARDS, SETTINGS);
      try {
        const distributed = await runAll(coordinator, orgId, scheduled);
        distributed.forEach((text, i) => expect(text, NAMES[i]).toBe(embedded[i]));
        // Every one-off run and every periodic run went through the workers, shard by shard.
        const shardsDone = mine.map((w) => (w.output().match(/ done \(/g) ?? []).length);
        expect(shardsDone.reduce((a, b) => a + b, 0)).toBe(SHARDS * (TASKS.length + 2));
      } finally {
        await coordinator.close();
        await stopWorkers(mine);
      }
    },
    240_000,
  );
});
