// The cloak API over TLS: uploads (gzip, limits, all-or-nothing), one-user keys, tables and task runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import type { TestKey } from '../support/https-client.ts';

describe('cloak API', () => {
  let inst: TestInstallation;
  let orgId: string;
  let upload: TestKey;
  const rows = () => inst.platform.cloak.data.sync!.rowCount(orgId, 'visits');

  beforeAll(async () => {
    inst = await startTestInstallation({ cloak: { bodyLimitBytes: 64 * 1024 } });
    orgId = await inst.createOrg('Cloak API');
    upload = await inst.issueKey(orgId, 'upload_any');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'visits',
      columns: [
        { name: 'page', type: 'varchar(10)' },
        { name: 'seconds', type: 'integer' },
      ],
    });
  });
  afterAll(() => inst.stop());

  it('accepts a gzip-compressed bulk upload', async () => {
    const before = rows();
    const body = {
      alice: { visits: [{ page: 'home', seconds: 3 }] },
      bob: { visits: [{ page: 'cart', seconds: 9 }] },
    };
    const response = await inst.cloak('/bulk_insert', { body, key: upload, gzip: true });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ success: true });
    expect(rows()).toBe(before + 2);
  });

  it('rejects a bad value with 422 naming user, table, row and column, and stores nothing of the request', async () => {
    const before = rows();
    const body = {
      carol: { visits: [{ page: 'home', seconds: 1 }] },
      dave: {
        visits: [
          { page: 'home', seconds: 2 },
          { page: 'far too long a page', seconds: 3 },
        ],
      },
    };
    const response = await inst.cloak('/bulk_insert', { body, key: upload });
    expect(response.status).toBe(422);
    expect(response.json.success).toBe(false);
    for (const part of ['dave', 'visits', 'row 2', 'page'])
      expect(response.json.error).toContain(part);
    expect(rows()).toBe(before);
  });

  it('answers 413 to a body over the limit, also when it only grows past it after gunzip', async () => {
    const before = rows();
    const big = {
      eve: { visits: Array.from({ length: 4000 }, () => ({ page: 'home', seconds: 1 })) },
    };
    const plain = await inst.cloak('/bulk_insert', { body: big, key: upload });
    expect(plain.status).toBe(413);
    expect(plain.json.error).toMatch(/larger than the limit/);
    const zipped = await inst.cloak('/bulk_insert', { body: big, key: upload, gzip: true });
    expect(zipped.status).toBe(413);
    expect(rows()).toBe(before);
  });

  it('answers 415 to an unknown content encoding, and 400 to broken JSON', async () => {
    const br = await inst.cloak('/bulk_insert', {
      body: {},
      key: upload,
      headers: { 'content-encoding': 'br' },
    });
    expect(br.status).toBe(415);
    expect(br.json.error).toContain('"br"');
    const broken = await inst.cloak('/bulk_insert', { rawBody: '{"alice": ', key: upload });
    expect(broken.status).toBe(400);
    expect(broken.json.success).toBe(false);
  });

  it('stores /insert rows for the user named in a one-user certificate only', async () => {
    const key = await inst.issueKey(orgId, 'upload_user', 'frank');
    const response = await inst.cloak('/insert', {
      body: { visits: [{ page: 'mine', seconds: 5 }] },
      key,
    });
    expect(response.status).toBe(200);
    const users = [
      ...inst.platform.cloak.data.sync!.streamUsers(orgId, [
        { table: 'visits', where: [{ $$page: { $eq: 'mine' } }] },
      ]),
    ];
    expect(users.map((u) => u.userId)).toEqual(['frank']);
    // A one-user key cannot use the any-user endpoint, nor the other way round.
    expect((await inst.cloak('/bulk_insert', { body: {}, key })).status).toBe(401);
    expect((await inst.cloak('/insert', { body: {}, key: upload })).status).toBe(401);
  });

  it('runs a task synchronously on POST /task/run with a task-runner key', async () => {
    const runner = await inst.issueKey(orgId, 'task_runner');
    const body: Record<string, unknown> = {};
    // 100 users: enough for the bucket to be published (its noisy count must reach 43).
    for (let i = 0; i < 100; i++) body[`v${i}`] = { visits: [{ page: 'landing', seconds: i }] };
    expect((await inst.cloak('/bulk_insert', { body, key: upload })).status).toBe(200);
    const response = await inst.cloak('/task/run', {
      key: runner,
      body: {
        task_id: 'my-task-1',
        prefetch: [{ table: 'visits', where: [{ $$page: { $eq: 'landing' } }] }],
        post_processing: { code: 'report_property("page", tables.visits[0].page);' },
      },
    });
    expect(response.status).toBe(200);
    expect(response.json.task_id).toBe('my-task-1');
    expect(response.json.buckets).toHaveLength(1);
    expect(response.json.buckets[0]).toMatchObject({ label: 'page', value: 'landing' });
    expect(Math.abs(response.json.buckets[0].count - 100)).toBeLessThanOrEqual(35); // sd 10, at most 3 sd, half a step of 10
    expect(response.json.exceptions).toEqual([]);

    const bad = await inst.cloak('/task/run', {
      key: runner,
      body: { prefetch: [{ table: 'nope' }], post_processing: { code: '1' } },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.error).toContain('"nope"');
    const syntax = await inst.cloak('/task/run', {
      key: runner,
      body: { prefetch: [{ table: 'visits' }], post_processing: { code: 'if (' } },
    });
    expect(syntax.status).toBe(422);
    expect(syntax.json.error).toMatch(/does not compile/);
  });

  it('manages tables with an admin key only', async () => {
    const admin = await inst.issueKey(orgId, 'admin');
    const created = await inst.cloak('/tables', {
      key: admin,
      body: { name: 'extra', columns: [{ name: 'x', type: 'text' }] },
    });
    expect(created.status).toBe(201);
    const listed = await inst.cloak('/tables', { key: admin });
    expect(listed.json.tables.map((t: { name: string }) => t.name)).toContain('extra');
    expect((await inst.cloak('/tables', { key: upload })).status).toBe(401);
    expect((await inst.cloak('/tables/extra', { key: admin, method: 'DELETE' })).status).toBe(200);
  });
});
