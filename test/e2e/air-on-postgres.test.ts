// Server mode, the air part: the whole platform with the air on PostgreSQL (the cloak on SQLite) runs the README's first task.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../src/store/test-support.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import type { TestKey } from '../support/https-client.ts';

const USERS = 300;

describe('the air on PostgreSQL', () => {
  let database: { url: string; drop: () => Promise<void> };
  let inst: TestInstallation;
  let orgId: string;
  let webKey: TestKey;

  beforeAll(async () => {
    database = await createTestDatabase('oc_air_e2e');
    inst = await startTestInstallation({ air: { store: database.url } });
    orgId = await inst.createOrg('Acme');
    webKey = await inst.issueKey(orgId, 'web_api');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'people',
      columns: [{ name: 'height', type: 'integer' }],
    });
  });
  afterAll(async () => {
    await inst?.stop();
    await database?.drop();
  });

  it('keeps the air in PostgreSQL and no air.db in the data directory', async () => {
    expect(inst.platform.air.db.dialect).toBe('postgres');
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${inst.dataDir}/air.db`)).toBe(false);
  });

  it('uploads, runs a task and serves its result over the web API', async () => {
    const uploadKey = await inst.issueKey(orgId, 'upload_any');
    const body: Record<string, unknown> = {};
    for (let i = 0; i < USERS; i++) body[`u${i}`] = { people: [{ height: i < 200 ? 140 : 160 }] };
    expect((await inst.cloak('/bulk_insert', { body, key: uploadKey })).status).toBe(200);

    const task = await inst.platform.tasks.create(orgId, {
      name: 'heights',
      type: 'batch',
      prefetch: [{ table: 'people' }],
      code: 'for (const p of tables.people) report_property("height", p.height);',
    });
    const run = await inst.web(`/api/tasks/${task.token}/run`, { method: 'POST', key: webKey });
    expect(run.status).toBe(200);
    const response = await inst.web(`/api/task_results/${task.id}`, { key: webKey });
    expect(response.json).toMatchObject({ success: true, count: 1 });
    const names = response.json.items[0].buckets.map((b: { name: string }) => b.name).sort();
    expect(names).toEqual(['height: 140', 'height: 160']);
  });

  it('refuses a revoked key at the next request', async () => {
    const key = await inst.issueKey(orgId, 'web_api');
    expect((await inst.web('/api/tasks', { key })).status).toBe(200);
    await inst.platform.keys.revoke(orgId, key.id);
    expect((await inst.web('/api/tasks', { key })).status).toBe(401);
  });
});
