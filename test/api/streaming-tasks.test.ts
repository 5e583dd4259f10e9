// Streaming tasks: a run per user when their data arrives, state kept across runs and restarts,
// reports of recent users, and expiry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig, type ConfigInput } from '../../src/config/index.ts';
import { userKey } from '../../src/anonymizer/index.ts';
import { loadOrCreateNoiseSecret } from '../../src/cloak/noise-secret.ts';
import { startPlatform, type RunningPlatform } from '../../src/platform/index.ts';
import { request, type TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

// Enough for a bucket of all of them to be published (its noisy count must reach 43).
const USERS = 100;
const CODE = `accumulator = (accumulator ?? 0) + 1;
report_property("runs", accumulator);
report_property("last page", tables.visits[tables.visits.length - 1].page);`;
// Nothing runs in the background: the tests say when to process arrivals and when to report.
// Reports are charged to the participation budget like any run (tested below);
// these tests are about streaming itself, so the budget is raised well above what they spend.
const QUIET: ConfigInput = {
  scheduler: { tickMs: 3_600_000 },
  cloak: { streamingIntervalMs: 600_000 },
  privacy: { participationRho: 10 },
};

describe('streaming tasks', () => {
  let inst: TestInstallation;
  let platform: RunningPlatform;
  let orgId: string;
  let key: TestKey;
  let upload: TestKey;
  let token: string;

  const names = (result: { buckets: Array<{ label: string; value: string }> }) =>
    result.buckets.map((b) => `${b.label}: ${b.value}`).sort();
  const uploadPage = async (page: string) => {
    const body: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) body[`u${u}`] = { visits: [{ page }] };
    const response = await request(`${platform.cloakUrl}/bulk_insert`, platform.pki.ca.certPem, {
      key: upload,
      body,
    });
    expect(response.status).toBe(200);
  };
  const report = async () => {
    const task = (await platform.air.tasks.byToken(orgId, token))!;
    return await platform.tasks.publishStreaming(task);
  };

  beforeAll(async () => {
    inst = await startTestInstallation(QUIET);
    platform = inst.platform;
    orgId = await inst.createOrg('Streams');
    key = await inst.issueKey(orgId, 'web_api');
    upload = await inst.issueKey(orgId, 'upload_any');
    await platform.cloak.data.createTable(orgId, {
      name: 'visits',
      columns: [{ name: 'page', type: 'text' }],
    });
  });
  afterAll(async () => {
    if (platform !== inst.platform) await platform.stop();
    await inst.stop();
  });

  it.each([
    [undefined, /needs a "schedule"/],
    [{ report_interval: 10, user_expire_interval: 3600 }, /"report_interval".*at least 60/],
    [{ report_interval: 60 }, /"user_expire_interval" must be/],
    [{ every_seconds: 60 }, /unknown key "every_seconds"/],
  ])('refuses the schedule %j with a 422 that says what to write', async (schedule, message) => {
    const response = await inst.web('/api/tasks', {
      key,
      body: {
        name: `bad ${JSON.stringify(schedule)}`,
        type: 'streaming',
        code: CODE,
        prefetch: [{ table: 'visits' }],
        ...(schedule ? { schedule } : {}),
      },
    });
    expect(response.status).toBe(422);
    expect(response.json.error).toMatch(message);
  });

  it('runs each user when their data arrives and reports their latest properties', async () => {
    const created = await inst.web('/api/tasks', {
      key,
      body: {
        name: 'visits',
        type: 'streaming',
        code: CODE,
        prefetch: [{ table: 'visits' }],
        schedule: { report_interval: 60, user_expire_interval: 3600 },
      },
    });
    expect(created.status).toBe(201);
    token = created.json.task.token;

    await uploadPage('home');
    expect(await platform.cloak.streaming.process()).toBe(USERS);
    expect(await platform.cloak.streaming.process()).toBe(0);
    expect(names(await report())).toEqual(['last page: home', 'runs: 1']);
    // A report is a budgeted run: it says what the budget did, with a notice of its own.
    const first = (await report()).budget!;
    expect(first).toMatchObject({ may_be_low: false });
    expect((await report()).budget!.period_run).toBe(first.period_run + 1);

    // New data replaces each user's properties; the accumulator carries over.
    await uploadPage('cart');
    expect(await platform.cloak.streaming.process()).toBe(USERS);
    expect(names(await report())).toEqual(['last page: cart', 'runs: 2']);
  });

  it('keeps accumulators and its place in the data across a restart', async () => {
    await inst.platform.stop();
    platform = await startPlatform(
      buildConfig({ ...QUIET, dataDir: inst.dataDir, web: { port: 0 }, cloak: { port: 0 } }),
    );
    // Nothing arrived while it was down, so nothing runs again.
    expect(await platform.cloak.streaming.process()).toBe(0);
    await uploadPage('checkout');
    expect(await platform.cloak.streaming.process()).toBe(USERS);
    expect(names(await report())).toEqual(['last page: checkout', 'runs: 3']);
  });

  it('drops users whose task has not run within user_expire_interval, and publishes on schedule', async () => {
    const later = Date.now() + 3601 * 1000;
    expect((await platform.cloak.streaming.report(orgId, token, 3600, later)).buckets).toEqual([]);
    const task = (await platform.air.tasks.byToken(orgId, token))!;
    const before = await platform.air.results.count(task.id);
    expect(
      await platform.scheduler.tick((task.lastScheduledAt ?? task.createdAt) + 60_000),
    ).toContain(task.id);
    expect(await platform.air.results.count(task.id)).toBe(before + 1);
  });

  it('charges its reports to the participation budget like any run', async () => {
    const task = (await platform.air.tasks.byToken(orgId, token))!;
    const { budget } = platform.cloak;
    // The installation's secret exists: the stand-in for its data is never asked for.
    const u0 = userKey(
      loadOrCreateNoiseSecret(inst.dataDir, () => 'an installation'),
      'u0',
    );
    const before = await budget!.spent(orgId, u0);
    expect(before).toBeGreaterThan(0);
    // A report over the same users and properties is the same bucket again: free.
    await platform.tasks.publishStreaming(task);
    expect(await budget!.spent(orgId, u0)).toBe(before);
  });

  it('forgets its users when the task is deleted', async () => {
    const deleted = await request(
      `${platform.webUrl}/api/tasks/${token}`,
      platform.pki.ca.certPem,
      {
        key,
        method: 'DELETE',
      },
    );
    expect(deleted.status).toBe(200);
    await expect(platform.cloak.streaming.report(orgId, token, 3600)).rejects.toThrow(
      /not registered/,
    );
  });
});
