// Request bodies on both APIs: JSON only, an empty one is none, keys once, no prototype keys, no NUL in text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

describe('request bodies', () => {
  let inst: TestInstallation;
  let orgId: string;
  let upload: TestKey;
  let solo: TestKey;
  let admin: TestKey;
  let web: TestKey;
  const rows = () => inst.platform.cloak.data.sync!.rowCount(orgId, 'visits');
  const empty = { rawBody: '' };

  beforeAll(async () => {
    inst = await startTestInstallation();
    orgId = await inst.createOrg('Bodies');
    upload = await inst.issueKey(orgId, 'upload_any');
    solo = await inst.issueKey(orgId, 'upload_user', 'solo');
    admin = await inst.issueKey(orgId, 'admin');
    web = await inst.issueKey(orgId, 'web_api');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'visits',
      columns: [
        { name: 'page', type: 'varchar(10)' },
        { name: 'note', type: 'text' },
      ],
    });
  });
  afterAll(() => inst.stop());

  it('takes an empty body sent as application/json as no body, on routes whose body is optional', async () => {
    const created = await inst.web('/api/tasks', {
      key: web,
      body: { name: 'pages', code: 'report_property("p", 1);', prefetch: [{ table: 'visits' }] },
    });
    expect(created.status).toBe(201);
    const token = created.json.task.token as string;
    const preview = await inst.web(`/api/tasks/${token}/preview`, { key: web, ...empty });
    expect([preview.status, preview.json.success]).toEqual([200, true]);
    const run = await inst.web(`/api/tasks/${token}/run`, { key: web, ...empty });
    expect([run.status, run.json.success]).toEqual([200, true]);
    const removed = await inst.web(`/api/tasks/${token}`, { key: web, method: 'DELETE', ...empty });
    expect(removed.status).toBe(200);

    await inst.platform.cloak.data.createTable(orgId, {
      name: 'scratch',
      columns: [{ name: 'x', type: 'text' }],
    });
    const dropped = await inst.cloak('/tables/scratch', { key: admin, method: 'DELETE', ...empty });
    expect(dropped.status).toBe(200);
    const forgot = await inst.cloak('/users/nobody', { key: admin, method: 'DELETE', ...empty });
    expect(forgot.json).toEqual({ success: true, rows_removed: 0 });
  });

  it('still refuses a missing body where one is needed, in the route’s own words', async () => {
    const bulk = await inst.cloak('/bulk_insert', { key: upload, ...empty });
    expect(bulk.status).toBe(422);
    expect(bulk.json.error).toContain('expected {"<user id>"');
    const table = await inst.cloak('/tables', { key: admin, ...empty });
    expect(table.status).toBe(422);
    expect(table.json.error).toContain('name');
    const task = await inst.web('/api/tasks', { key: web, ...empty });
    expect(task.status).toBe(422);
    expect(task.json.error).toContain('"code"');
  });

  it('answers 415 naming application/json to a body of any other type, also text/plain', async () => {
    const body = { alice: { visits: [{ page: 'home' }] } };
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const answer = await inst.cloak('/bulk_insert', {
        key: upload,
        body,
        headers: { 'content-type': type },
      });
      expect(answer.status).toBe(415);
      expect(answer.json.error).toContain(`"${type}"`);
      expect(answer.json.error).toContain('Content-Type: application/json');
    }
    const task = await inst.web('/api/tasks', {
      key: web,
      body: { name: 'x', code: '1', prefetch: [{ table: 'visits' }] },
      headers: { 'content-type': 'text/plain' },
    });
    expect(task.status).toBe(415);
    const charset = await inst.cloak('/bulk_insert', {
      key: upload,
      body,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(charset.status).toBe(200);
  });

  it('refuses prototype keys naming the key, and nothing is stored', async () => {
    const before = rows();
    for (const [rawBody, key] of [
      ['{"__proto__":{"visits":[{"page":"a"}]}}', '__proto__'],
      ['{"ann":{"__proto__":[{"page":"a"}]}}', '__proto__'],
      ['{"ann":{"visits":[{"page":"a","__proto__":{}}]}}', '__proto__'],
      ['{"ann":{"visits":[{"constructor":{"prototype":{}}}]}}', 'constructor'],
    ] as const) {
      const answer = await inst.cloak('/bulk_insert', { key: upload, rawBody });
      expect(answer.status, rawBody).toBe(400);
      expect(answer.json.error).toContain(`"${key}" `);
      expect(answer.json.error).toContain('may not be used as a key');
    }
    expect(rows()).toBe(before);
  });

  it('names the position of a JSON syntax error, and never repeats the body', async () => {
    const comma = await inst.cloak('/bulk_insert', {
      key: upload,
      rawBody: '{"alice": {"visits": [{"page": "home",}]}}',
    });
    expect(comma.status).toBe(400);
    expect(comma.json.error).toContain('Expected double-quoted property name at position 38');
    const token = await inst.web('/api/tasks', { key: web, rawBody: '{"name": secret}' });
    expect(token.status).toBe(400);
    expect(token.json.error).toContain("unexpected character 's'");
    expect(token.json.error).not.toContain('name');
  });

  it('refuses a user, a table of a user or a column of a row given twice, naming them; nothing is stored', async () => {
    const before = rows();
    const row = (page: string) => `{"page":"${page}"}`;
    const cases: Array<[string, string, TestKey, string]> = [
      [
        '/bulk_insert',
        `{"u9":{"visits":[${row('p')},${row('q')}],"visits":[${row('r')}]}}`,
        upload,
        'User "u9", table "visits" occurs twice',
      ],
      [
        '/bulk_insert',
        `{"u9":{"visits":[${row('p')}]},"u8":{},"u9":{"visits":[]}}`,
        upload,
        'User "u9" occurs twice',
      ],
      [
        '/bulk_insert',
        `{"u9":{"visits":[${row('p')},{"page":"q","note":"n","page":"r"}]}}`,
        upload,
        'User "u9", table "visits", row 2, column "page" occurs twice',
      ],
      [
        '/insert',
        `{"visits":[${row('p')}],"visits":[${row('q')}]}`,
        solo,
        'Table "visits" occurs twice',
      ],
    ];
    for (const [path, rawBody, key, message] of cases) {
      const answer = await inst.cloak(path, { key, rawBody });
      expect(answer.status, rawBody).toBe(422);
      expect(answer.json.error).toContain(message);
      expect(answer.json.error).toMatch(/at position \d+/);
    }
    expect(rows()).toBe(before);
    const other = await inst.cloak('/tables', {
      key: admin,
      rawBody: '{"name":"a","columns":[{"name":"x","type":"text","type":"integer"}]}',
    });
    expect(other.status).toBe(422);
    expect(other.json.error).toContain('The key "type" at columns[0] of the request body');
  });

  it('refuses text holding U+0000 on both upload routes, naming user, table, row and column', async () => {
    const before = rows();
    const bulk = await inst.cloak('/bulk_insert', {
      key: upload,
      body: { ann: { visits: [{ page: 'ok' }, { page: 'a', note: 'x\u0000y' }] } },
    });
    expect(bulk.status).toBe(422);
    expect(bulk.json.error).toContain('User "ann", table "visits", row 2, column "note": ');
    expect(bulk.json.error).toContain('U+0000');
    const one = await inst.cloak('/insert', {
      key: solo,
      body: { visits: [{ page: '\u0000' }] },
    });
    expect(one.status).toBe(422);
    expect(one.json.error).toContain('User "solo", table "visits", row 1, column "page": ');
    expect(rows()).toBe(before);
  });
});
