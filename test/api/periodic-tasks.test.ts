// Periodic tasks: schedules checked on save, runs when due, and one catch-up run after downtime.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/index.ts';
import { startPlatform, type RunningPlatform } from '../../src/platform/index.ts';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

const CODE = 'report_property("g", tables.t[0].g);';

/** Waits for background runs; a guard against hanging (below the 60 s test timeout), not a measurement. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (const started = Date.now(); !(await check()) && Date.now() - started < 50_000;) {
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(await check()).toBe(true);
}

describe('periodic tasks', () => {
  let inst: TestInstallation;
  let orgId: string;
  let key: TestKey;

  beforeAll(async () => {
    // A slow tick: the tests call tick() themselves with the time they want to see.
    inst = await startTestInstallation({ scheduler: { tickMs: 3_600_000 } });
    orgId = await inst.createOrg('Periodic');
    key = await inst.issueKey(orgId, 'web_api');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 't',
      columns: [{ name: 'g', type: 'integer' }],
    });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < 30; u++) rows[`u${u}`] = { t: [{ g: u % 2 }] };
    await inst.platform.cloak.data.insert(orgId, rows);
  });
  afterAll(() => inst.stop());

  const create = (name: string, extra: Record<string, unknown>) =>
    inst.web('/api/tasks', {
      key,
      body: { name, code: CODE, prefetch: [{ table: 't' }], ...extra },
    });

  it.each([
    [{ type: 'periodic' }, /needs a "schedule"/],
    [{ type: 'periodic', schedule: { every_seconds: 10 } }, /at least 60/],
    [{ type: 'periodic', schedule: { cron: '0 6 * *' } }, /five fields/],
    [{ type: 'periodic', schedule: { cron: '99 6 * * *' } }, /not a valid cron expression/],
    [{ type: 'periodic', schedule: { every: 60 } }, /exactly one of "every_seconds" or "cron"/],
    [
      { type: 'batch', schedule: { every_seconds: 60 } },
      /Only periodic and streaming tasks have a schedule/,
    ],
  ])('refuses %j with a 422 that says what to write', async (extra, message) => {
    const response = await create(`bad-${JSON.stringify(extra)}`, extra);
    expect(response.status).toBe(422);
    expect(response.json.error).toMatch(message);
  });

  it('accepts a cron schedule, shows the next run, and drops it when the task becomes batch', async () => {
    const created = await create('weekly', { type: 'periodic', schedule: { cron: '0 6 * * 1' } });
    expect(created.status).toBe(201);
    const next = new Date(created.json.task.next_run_at);
    expect([next.getUTCDay(), next.getUTCHours(), next.getUTCMinutes()]).toEqual([1, 6, 0]);
    const changed = await inst.web(`/api/tasks/${created.json.task.token}`, {
      key,
      method: 'PUT',
      body: { type: 'batch' },
    });
    expect(changed.status).toBe(200);
    expect(changed.json.task.schedule).toBeUndefined();
  });

  it('runs when due, not before, and publishes a result each time', async () => {
    const created = await create('hourly', { type: 'periodic', schedule: { every_seconds: 3600 } });
    const task = (await inst.platform.air.tasks.byToken(orgId, created.json.task.token))!;
    const results = async () => await inst.platform.air.results.count(task.id);
    const { scheduler } = inst.platform;
    expect(await scheduler.tick(task.createdAt + 3_599_000)).not.toContain(task.id);
    expect(await scheduler.tick(task.createdAt + 3_600_000)).toContain(task.id);
    await until(async () => (await results()) === 1);
    expect(await scheduler.tick(task.createdAt + 3_700_000)).not.toContain(task.id);
    expect(await scheduler.tick(task.createdAt + 7_200_000)).toContain(task.id);
    await until(async () => (await results()) === 2);
  });

  it('after a restart that missed many runs, runs the task once and schedules the next from then', async () => {
    const created = await create('catch-up', {
      type: 'periodic',
      schedule: { every_seconds: 60 },
    });
    const task = (await inst.platform.air.tasks.byToken(orgId, created.json.task.token))!;
    // The server was down for a day: 1,440 runs were missed.
    await inst.platform.air.tasks.markScheduled(task.id, Date.now() - 86_400_000);
    // One server per data directory: the first must stop before the restart.
    await inst.platform.stop();
    let restarted: RunningPlatform | undefined;
    try {
      const started = Date.now();
      restarted = await startPlatform(
        buildConfig({
          dataDir: inst.dataDir,
          web: { port: 0 },
          cloak: { port: 0 },
          scheduler: { tickMs: 3_600_000 },
        }),
      );
      const store = restarted.air;
      await until(async () => (await store.results.count(task.id)) === 1);
      const after = (await store.tasks.byId(orgId, task.id))!;
      expect(after.lastScheduledAt).toBeGreaterThanOrEqual(started);
      // Nothing more is due until a minute after the catch-up run.
      expect(await restarted.scheduler.tick()).not.toContain(task.id);
      expect(await restarted.scheduler.tick(after.lastScheduledAt! + 60_000)).toContain(task.id);
      await until(async () => (await store.results.count(task.id)) === 2);
    } finally {
      await restarted?.stop();
    }
  });
});
