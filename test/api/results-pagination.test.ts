// Pagination of task results: defaults, ordering, edges and rejected parameters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import type { TestKey } from '../support/https-client.ts';

describe('results pagination', () => {
  let inst: TestInstallation;
  let key: TestKey;
  let taskId: number;
  const TOTAL = 25;

  beforeAll(async () => {
    inst = await startTestInstallation();
    const orgId = await inst.createOrg('Paging');
    key = await inst.issueKey(orgId, 'web_api');
    const task = await inst.platform.air.tasks.create(orgId, {
      name: 't',
      type: 'batch',
      code: '',
      prefetch: [],
    });
    taskId = task.id;
    for (let i = 0; i < TOTAL; i++) {
      await inst.platform.air.results.publish(
        task.id,
        1,
        { buckets: [{ label: 'run', value: String(i), count: 10 }], exceptions: [] },
        1_700_000_000_000 + i * 1000,
      );
    }
  });
  afterAll(() => inst.stop());

  const runsOf = (json: { items: Array<{ buckets: Array<{ name: string }> }> }) =>
    json.items.map((item) => item.buckets[0]!.name);

  it('defaults to page 1 with 10 results, newest first, and counts all results of the task', async () => {
    const { status, json } = await inst.web(`/api/task_results/${taskId}`, { key });
    expect(status).toBe(200);
    expect(json).toMatchObject({ success: true, count: TOTAL, page: 1, per_page: 10 });
    expect(runsOf(json)).toEqual(Array.from({ length: 10 }, (_, i) => `run: ${24 - i}`));
    expect(json.items[0].published_at).toBe(1_700_000_000_000 + 24_000);
  });

  it('serves the last, partial page and an empty page beyond the end', async () => {
    const last = await inst.web(`/api/task_results/${taskId}?page=3&per_page=10`, { key });
    expect(runsOf(last.json)).toEqual(['run: 4', 'run: 3', 'run: 2', 'run: 1', 'run: 0']);
    const beyond = await inst.web(`/api/task_results/${taskId}?page=4`, { key });
    expect(beyond.status).toBe(200);
    expect(beyond.json).toMatchObject({
      success: true,
      count: TOTAL,
      page: 4,
      per_page: 10,
      items: [],
    });
  });

  it('accepts per_page up to the maximum of 100', async () => {
    const all = await inst.web(`/api/task_results/${taskId}?per_page=100`, { key });
    expect(all.json.items).toHaveLength(TOTAL);
    const one = await inst.web(`/api/task_results/${taskId}?per_page=1&page=25`, { key });
    expect(runsOf(one.json)).toEqual(['run: 0']);
  });

  it.each([
    ['page=0', 'page'],
    ['page=-1', 'page'],
    ['page=abc', 'page'],
    ['page=1.5', 'page'],
    ['page=', 'page'],
    ['page=1&page=2', 'page'],
    ['per_page=0', 'per_page'],
    ['per_page=101', 'per_page'],
    ['per_page=ten', 'per_page'],
    ['per_page=1e2', 'per_page'],
  ])('rejects %s with 422 naming the parameter', async (query, param) => {
    const { status, json } = await inst.web(`/api/task_results/${taskId}?${query}`, { key });
    expect(status).toBe(422);
    expect(json.success).toBe(false);
    expect(json.error).toContain(`"${param}"`);
    expect(json.error).toMatch(/whole number from 1 to/);
  });
});
