// The whole path: define a table, upload over HTTPS, create and run a task, read the result over the web API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countNoiseSd, DEFAULT_ANONYMIZER_SETTINGS } from '../../src/anonymizer/index.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import type { TestKey } from '../support/https-client.ts';

const USERS = 300;

/** How far a published count may be from n: 3.5 sd of its noise (14 at 100 users, 19.8 at 200) and half a step. */
const near = (n: number) => 3.5 * countNoiseSd(n, DEFAULT_ANONYMIZER_SETTINGS) + 10;

describe('upload, run and publish', () => {
  let inst: TestInstallation;
  let orgId: string;
  let webKey: TestKey;
  let uploadKey: TestKey;

  beforeAll(async () => {
    // Several tasks over the same 300 users: with the default participation budget (about one
    // fresh bucket of sd 1.7 per user, docs/anonymization.md) the second would publish nothing.
    // This test is about the pipeline, so it raises the budget well above what it spends.
    inst = await startTestInstallation({ privacy: { participationRho: 10 } });
    orgId = await inst.createOrg('Acme');
    webKey = await inst.issueKey(orgId, 'web_api');
    uploadKey = await inst.issueKey(orgId, 'upload_any');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'people',
      columns: [
        { name: 'height', type: 'integer' },
        { name: 'city', type: 'varchar(20)' },
      ],
    });
  });
  afterAll(() => inst.stop());

  it('accepts a bulk upload over HTTPS with a data-upload certificate', async () => {
    const body: Record<string, unknown> = {};
    for (let i = 0; i < USERS; i++) {
      // 200 users of height 140 and 100 of height 160; every user in Berlin.
      body[`u${i}`] = { people: [{ height: i < 200 ? 140 : 160, city: 'Berlin' }] };
    }
    const response = await inst.cloak('/bulk_insert', { body, key: uploadKey });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ success: true });
    expect(await inst.platform.cloak.data.rowCount(orgId, 'people')).toBe(USERS);
  });

  it('runs a task and serves the result in the seed format, newest first', async () => {
    const task = await inst.platform.tasks.create(orgId, {
      name: 'heights',
      type: 'batch',
      prefetch: [{ table: 'people' }],
      code: 'for (const p of tables.people) report_property("height", p.height);',
    });
    const before = Date.now();
    const run = await inst.web(`/api/tasks/${task.token}/run`, { method: 'POST', key: webKey });
    const after = Date.now();
    expect(run.status).toBe(200);

    const response = await inst.web(`/api/task_results/${task.id}`, { key: webKey });
    expect(response.status).toBe(200);
    const json = response.json;
    expect(Object.keys(json).sort()).toEqual(['count', 'items', 'page', 'per_page', 'success']);
    expect(json).toMatchObject({ success: true, count: 1, page: 1, per_page: 10 });
    const [item] = json.items;
    // The seed's three fields, and beside them the budget notice of a budgeted run.
    expect(Object.keys(item).sort()).toEqual(['buckets', 'budget', 'exceptions', 'published_at']);
    expect(item.budget).toMatchObject({ may_be_low: false, period_run: 1 });
    expect(typeof item.published_at).toBe('number');
    // Published during the run's request, in ms since the epoch.
    expect(item.published_at).toBeGreaterThanOrEqual(before);
    expect(item.published_at).toBeLessThanOrEqual(after);
    const byName = Object.fromEntries(
      item.buckets.map((b: { name: string; value: number }) => [b.name, b.value]),
    );
    expect(Object.keys(byName).sort()).toEqual(['height: 140', 'height: 160']);
    // Noisy and rounded, but close.
    expect(Math.abs(byName['height: 140'] - 200)).toBeLessThanOrEqual(near(200));
    expect(Math.abs(byName['height: 160'] - 100)).toBeLessThanOrEqual(near(100));
    expect(item.exceptions).toEqual([]);

    // A second run publishes a second result, listed first; noise is sticky so counts are equal.
    await inst.platform.tasks.runBatch(orgId, task.token);
    const again = await inst.web(`/api/task_results/${task.id}`, { key: webKey });
    expect(again.json.count).toBe(2);
    expect(again.json.items[0].published_at).toBeGreaterThanOrEqual(
      again.json.items[1].published_at,
    );
    expect(again.json.items[0].buckets).toEqual(again.json.items[1].buckets);
  });

  it('lists tasks and serves results under /api/tasks/<token>/results', async () => {
    const tasks = await inst.web('/api/tasks', { key: webKey });
    expect(tasks.status).toBe(200);
    expect(tasks.json.success).toBe(true);
    const heights = await tasks.json.tasks.find((t: { name: string }) => t.name === 'heights');
    expect(heights).toMatchObject({ type: 'batch' });
    expect(heights.token).toMatch(/^[a-z][a-z0-9]{11}$/);

    const results = await inst.web(`/api/tasks/${heights.token}/results?per_page=1`, {
      key: webKey,
    });
    expect(results.status).toBe(200);
    expect(results.json).toMatchObject({ success: true, count: 2, page: 1, per_page: 1 });
    expect(results.json.results).toHaveLength(1);
    expect(results.json.items).toBeUndefined();
  });

  it('names a bucket with an empty value by its label alone', async () => {
    const task = await inst.platform.tasks.create(orgId, {
      name: 'everyone',
      type: 'batch',
      prefetch: [{ table: 'people' }],
      code: 'report_property("user", "");',
    });
    await inst.platform.tasks.runBatch(orgId, task.token);
    const response = await inst.web(`/api/task_results/${task.token}`, { key: webKey });
    expect(response.json.items[0].buckets.map((b: { name: string }) => b.name)).toEqual(['user']);
  });

  it('reports errors thrown by the task as anonymized exceptions, counted per message', async () => {
    const task = await inst.platform.tasks.create(orgId, {
      name: 'failing for tall people',
      type: 'batch',
      prefetch: [{ table: 'people' }],
      code: 'if (tables.people[0].height > 150) throw new Error("too tall"); report_property("ok", "yes");',
    });
    const result = await inst.platform.tasks.runBatch(orgId, task.token);
    expect(result.exceptions).toHaveLength(1);
    expect(result.exceptions[0]!.error).toContain('too tall');
    expect(Math.abs(result.exceptions[0]!.count - 100)).toBeLessThanOrEqual(near(100));
    expect(Math.abs(result.buckets[0]!.count - 200)).toBeLessThanOrEqual(near(200));
  });

  it('rejects a non-batch run with 400 and an unknown task with 404', async () => {
    await inst.platform.air.tasks.create(orgId, {
      name: 'stream',
      type: 'streaming',
      code: 'report_property("a", 1)',
      prefetch: [{ table: 'people' }],
    });
    const stream = (await inst.platform.air.tasks.byName(orgId, 'stream'))!;
    const notBatch = await inst.web(`/api/tasks/${stream.token}/run`, {
      method: 'POST',
      key: webKey,
    });
    expect(notBatch.status).toBe(400);
    expect(notBatch.json.success).toBe(false);
    expect(notBatch.json.error).toMatch(/streaming/);
    const unknown = await inst.web('/api/tasks/zzzzzzzzzzzz/run', { method: 'POST', key: webKey });
    expect(unknown.status).toBe(404);
  });
});
