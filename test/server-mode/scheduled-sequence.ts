// The scheduled half of the identical-results test: a periodic task's runs and a streaming task's reports, on a fixed clock.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { Scheduler } from '../../src/air/index.ts';
import type { OpenedPlatform } from '../../src/platform/index.ts';

/** A periodic run every hour. */
const PERIOD_MS = 3_600_000;
/**
 * A streaming report every 4,000 s: never due at the same tick as a period. A report and a run
 * settling the budget at once would settle in an order neither mode fixes, and the budget of the
 * later one would depend on it; one due task per tick keeps the sequence one order in both modes.
 */
const REPORT_MS = 4_000_000;

const PERIODIC_CODE = `for (const p of tables.purchases) report_property('hundreds', Math.floor(p.amount / 100));`;
const STREAMING_CODE = `accumulator = (accumulator ?? 0) + 1;
report_property('passes', accumulator);
report_property('last shop', tables.purchases[tables.purchases.length - 1].shop);`;

export interface ScheduledTasks {
  periodic: number;
  streaming: number;
}

/** Creates both tasks in the seed data directory, so that every copy has them with one creation time. */
export async function createScheduledTasks(
  platform: OpenedPlatform,
  orgId: string,
): Promise<ScheduledTasks> {
  const prefetch = [{ table: 'purchases' }];
  const periodic = await platform.tasks.create(orgId, {
    name: 'hourly',
    type: 'periodic',
    code: PERIODIC_CODE,
    prefetch,
    schedule: { every_seconds: PERIOD_MS / 1000 },
  });
  const streaming = await platform.tasks.create(orgId, {
    name: 'last shop',
    type: 'streaming',
    code: STREAMING_CODE,
    prefetch,
    schedule: { report_interval: REPORT_MS / 1000, user_expire_interval: 86_400 },
  });
  return { periodic: periodic.id, streaming: streaming.id };
}

/**
 * Two periods of the periodic task and two reports of the streaming task, with new rows arriving
 * in between (`arrive`): the scheduler is ticked with fixed times from the tasks' creation, never
 * the wall clock, and each periodic run is awaited before the next tick. Returns every published
 * result of both tasks, oldest first, as the bytes stored (buckets, exceptions, budget notice).
 */
export async function runScheduled(
  platform: OpenedPlatform,
  scheduler: Scheduler,
  orgId: string,
  ids: ScheduledTasks,
  arrive: () => Promise<void>,
): Promise<string[]> {
  const periodic = (await platform.air.tasks.byId(orgId, ids.periodic))!;
  const streaming = (await platform.air.tasks.byId(orgId, ids.streaming))!;
  // The air tells this process's cloak of its streaming tasks (a tick would too), and a pass
  // runs every user with rows.
  expect(await platform.tasks.syncStreamingTasks()).toEqual([]);
  await platform.cloak.streaming.process();
  const tick = async (now: number, due: number) => {
    expect(await scheduler.tick(now)).toEqual([due]);
    if (due === ids.periodic) await finished(platform, orgId, due);
  };
  await tick(periodic.createdAt + PERIOD_MS, ids.periodic);
  await tick(streaming.createdAt + REPORT_MS, ids.streaming);
  await arrive();
  await platform.cloak.streaming.process();
  await tick(periodic.createdAt + 2 * PERIOD_MS, ids.periodic);
  await tick(streaming.createdAt + 2 * REPORT_MS, ids.streaming);
  const published: string[] = [];
  for (const id of [ids.periodic, ids.streaming]) {
    const results = [];
    for await (const result of platform.air.results.all(id)) results.unshift(result);
    expect(results).toHaveLength(2);
    for (const { buckets, exceptions, budget } of results) {
      published.push(JSON.stringify({ buckets, exceptions, budget }));
    }
  }
  return published;
}

/** Waits for the task's newest run (started in the background by the tick) to end; it must complete. */
async function finished(platform: OpenedPlatform, orgId: string, taskId: number): Promise<void> {
  for (;;) {
    const [run] = await platform.tasks.runs.list(orgId, taskId);
    expect(run).toBeDefined();
    if (run!.state !== 'running') {
      expect(run!.error ?? run!.state).toBe('completed');
      return;
    }
    await sleep(50);
  }
}
