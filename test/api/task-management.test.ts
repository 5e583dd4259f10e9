// Task management over the web REST API: create, read, update, delete, results deletion and CSV export.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import type { TestKey } from '../support/https-client.ts';

describe('task management API', () => {
  let inst: TestInstallation;
  let orgId: string;
  let key: TestKey;
  const task = {
    name: 'cities',
    code: 'report_property("city", tables.people[0].city);',
    prefetch: [{ table: 'people' }],
  };

  beforeAll(async () => {
    inst = await startTestInstallation();
    orgId = await inst.createOrg('Tasks');
    key = await inst.issueKey(orgId, 'web_api');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'people',
      columns: [{ name: 'city', type: 'text' }],
    });
    const rows: Record<string, unknown> = {};
    // 100 users each: both towns are published (a bucket's noisy count must reach 43).
    for (let i = 0; i < 200; i++)
      rows[`p${i}`] = { people: [{ city: i < 100 ? '=cmd|calc' : 'Oslo, "North"' }] };
    await inst.platform.cloak.data.insert(orgId, rows);
  });
  afterAll(() => inst.stop());

  it('creates a batch task by default and reads it back with its code and prefetch', async () => {
    const created = await inst.web('/api/tasks', { key, body: task });
    expect(created.status).toBe(201);
    expect(created.json.task).toMatchObject({
      type: 'batch',
      code_version: 1,
      ...task,
    });
    const read = await inst.web(`/api/tasks/${created.json.task.token}`, { key });
    expect(read.json.task).toEqual(created.json.task);
  });

  it('rejects bad task bodies with 422 errors that point at the problem, and stores nothing', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...task, name: 'x', code: '' }, /"code": the task needs code/],
      [{ ...task, name: 'y', prefetch: [] }, /"prefetch": list at least one table/],
      [{ ...task, name: 'z', type: 'hourly' }, /"type"/],
      [{ ...task, name: 'w', extra: 1 }, /extra/],
      [{ ...task, name: 'v', prefetch: [{ table: 'peeple' }] }, /no table named "peeple"/],
      [{ ...task, name: 'u', code: 'if (' }, /does not compile.*line 1/],
      [{ ...task, name: 'cities' }, /already has a task named "cities"/],
    ];
    for (const [body, message] of cases) {
      const response = await inst.web('/api/tasks', { key, body });
      expect(response.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.json.error).toMatch(message);
    }
    const list = await inst.web('/api/tasks', { key });
    expect(list.json.tasks.map((t: { name: string }) => t.name)).toEqual(['cities']);
  });

  it('updates a task, starting a new code version only when code or prefetch change', async () => {
    const { token } = (await inst.web('/api/tasks', { key })).json.tasks[0];
    const renamed = await inst.web(`/api/tasks/${token}`, {
      key,
      method: 'PUT',
      body: { name: 'towns' },
    });
    expect(renamed.json.task).toMatchObject({ name: 'towns', code_version: 1 });
    const recoded = await inst.web(`/api/tasks/${token}`, {
      key,
      method: 'PUT',
      body: { code: 'report_property("town", tables.people[0].city);' },
    });
    expect(recoded.json.task.code_version).toBe(2);
    const bad = await inst.web(`/api/tasks/${token}`, {
      key,
      method: 'PUT',
      body: { prefetch: [{ table: 'nope' }] },
    });
    expect(bad.status).toBe(422);
    expect((await inst.web(`/api/tasks/${token}`, { key })).json.task.code_version).toBe(2);
    const empty = await inst.web(`/api/tasks/${token}`, { key, method: 'PUT', body: {} });
    expect(empty.status).toBe(422);
  });

  it('exports results as CSV with quoting and formula injection neutralised, and deletes results', async () => {
    const { token } = (await inst.web('/api/tasks', { key })).json.tasks[0];
    const run = await inst.web(`/api/tasks/${token}/run`, { key, method: 'POST' });
    expect(run.status).toBe(200);
    const csv = await inst.web(`/api/tasks/${token}/results.csv`, { key });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('result_id,published_at,kind,label,value,count');
    expect(lines.some((l) => l.includes(`bucket,town,"'=cmd|calc",`))).toBe(true);
    expect(lines.some((l) => l.includes('"Oslo, ""North"""'))).toBe(true);

    const results = await inst.web(`/api/tasks/${token}/results`, { key });
    const id = results.json.results[0].id;
    expect(typeof id).toBe('number');
    const seed = await inst.web(`/api/task_results/${token}`, { key });
    expect(seed.json.items[0]).not.toHaveProperty('id');
    expect(
      (await inst.web(`/api/tasks/${token}/results/${id}`, { key, method: 'DELETE' })).status,
    ).toBe(200);
    expect(
      (await inst.web(`/api/tasks/${token}/results/${id}`, { key, method: 'DELETE' })).status,
    ).toBe(404);
    expect((await inst.web(`/api/tasks/${token}/results`, { key })).json.count).toBe(0);
  });

  it('deletes a task with its results; another organisation cannot read, change or delete it', async () => {
    const { token } = (await inst.web('/api/tasks', { key })).json.tasks[0];
    const otherKey = await inst.issueKey(await inst.createOrg('Other'), 'web_api');
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await inst.web(`/api/tasks/${token}`, {
        key: otherKey,
        method,
        ...(method === 'PUT' ? { body: { name: 'mine' } } : {}),
      });
      expect(response.status).toBe(404);
    }
    expect((await inst.web(`/api/tasks/${token}`, { key, method: 'DELETE' })).status).toBe(200);
    expect((await inst.web(`/api/tasks/${token}`, { key })).status).toBe(404);
  });
});
