// TypeScript tasks over the web REST API: type-checked against the tables on save, transpiled, run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

describe('TypeScript tasks', () => {
  let inst: TestInstallation;
  let key: TestKey;
  let runner: TestKey;

  beforeAll(async () => {
    inst = await startTestInstallation();
    const orgId = await inst.createOrg('Typed');
    key = await inst.issueKey(orgId, 'web_api');
    runner = await inst.issueKey(orgId, 'task_runner');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'purchases',
      columns: [
        { name: 'amount', type: 'double' },
        { name: 'item', type: 'text' },
      ],
    });
    const rows: Record<string, unknown> = {};
    // 100 users per size: both buckets are published (a bucket's noisy count must reach 43).
    for (let u = 0; u < 200; u++) {
      rows[`u${u}`] = { purchases: [{ amount: u < 100 ? 50 : 150, item: 'book' }] };
    }
    await inst.platform.cloak.data.insert(orgId, rows);
  });
  afterAll(() => inst.stop());

  const source = `type Size = "small" | "large";
const size = (amount: number): Size => (amount > 100 ? "large" : "small");
for (const p of tables.purchases) report_property("size", size(p.amount ?? 0));`;

  it('saves typed code, keeps the source, and runs the transpiled JavaScript', async () => {
    const created = await inst.web('/api/tasks', {
      key,
      body: {
        name: 'sizes',
        language: 'typescript',
        code: source,
        prefetch: [{ table: 'purchases' }],
      },
    });
    expect(created.status).toBe(201);
    expect(created.json.task).toMatchObject({ language: 'typescript', code: source });
    const run = await inst.web(`/api/tasks/${created.json.task.token}/run`, {
      key,
      method: 'POST',
    });
    expect(run.status).toBe(200);
    const names = run.json.result.buckets.map((b: { name: string }) => b.name).sort();
    expect(names).toEqual(['size: large', 'size: small']);
  });

  it('refuses a column typo with line, column and a suggestion, and saves nothing', async () => {
    const bad = await inst.web('/api/tasks', {
      key,
      body: {
        name: 'typo',
        language: 'typescript',
        code: 'for (const p of tables.purchases) report_property("i", p.itme);',
        prefetch: [{ table: 'purchases' }],
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.error).toContain(
      "line 1, column 58: Property 'itme' does not exist on type '{ readonly amount: number | null; readonly item: string | null; }'",
    );
    const list = await inst.web('/api/tasks', { key });
    expect(list.json.tasks.map((t: { name: string }) => t.name)).not.toContain('typo');
  });

  it('runs TypeScript on the cloak API too', async () => {
    const response = await inst.cloak('/task/run', {
      key: runner,
      body: {
        prefetch: [{ table: 'purchases' }],
        post_processing: { code: source, language: 'typescript' },
      },
    });
    expect(response.status).toBe(200);
    expect(response.json.buckets.length).toBe(2);
    const wrong = await inst.cloak('/task/run', {
      key: runner,
      body: { prefetch: [{ table: 'purchases' }], post_processing: { code: 'x', language: 'lua' } },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.json.error).toMatch(/"language" must be one of javascript, typescript/);
  });
});
