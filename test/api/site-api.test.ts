// The analyst web site's API (/api/site): sessions, CSRF, keys, tables, tasks, results and admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import {
  analystSession,
  errorCode,
  loginToSite,
  type SiteClient,
} from '../support/site-session.ts';
import { until } from '../support/until.ts';

// 100 users per group: each group's bucket is published (the noisy count must reach 43).
const USERS = 300;
const CODE = 'report_property("group", tables.visits[0].g);';

describe('analyst web site API', () => {
  let inst: TestInstallation;
  let admin: SiteClient;
  let ada: SiteClient;
  let eve: SiteClient;
  let adaOrg: string;
  let eveOrg: string;

  beforeAll(async () => {
    // Several tasks over a few hundred users: the participation budget (tested in test/attacks and
    // src/cloak) would soon leave them out, and these tests are about the site, not the budget.
    inst = await startTestInstallation({ privacy: { participationBudget: false } });
    const first = inst.platform.initialAdmin!;
    admin = await loginToSite(inst, first.email, first.password);
    adaOrg = await inst.createOrg('Ada Labs');
    eveOrg = await inst.createOrg('Eve Corp');
    ada = await analystSession(inst, admin, adaOrg, 'ada@ada.test');
    eve = await analystSession(inst, admin, eveOrg, 'eve@eve.test');
  });
  afterAll(() => inst.stop());

  it('refuses every endpoint without a session, and state changes without the CSRF token', async () => {
    for (const path of [
      '/api/site/keys',
      '/api/site/tables',
      '/api/site/tables/counts',
      '/api/site/tasks',
      '/api/site/budget',
      '/api/site/admin/users',
      '/api/site/admin/audit',
    ]) {
      const response = await inst.web(path);
      expect(response.status, path).toBe(401);
      expect(errorCode(response)).toBe('SESSION_REQUIRED');
    }
    const noCsrf = await ada('/api/site/tables', {
      csrf: false,
      body: { name: 'sneaky', columns: [{ name: 'x', type: 'integer' }] },
    });
    expect(noCsrf.status).toBe(403);
    expect(errorCode(noCsrf)).toBe('CSRF_TOKEN_INVALID');
    expect((await ada('/api/site/tables')).json.tables).toEqual([]);
  });

  it('creates a key whose downloaded .pfx authenticates against /api/tasks, lists it, and revokes it', async () => {
    const weak = await ada('/api/site/keys', {
      body: { type: 'web_api', description: 'laptop', password: 'abc' },
    });
    expect(weak.status).toBe(422);
    expect(errorCode(weak)).toBe('INVALID_KEY_PASSWORD');

    const created = await ada('/api/site/keys', {
      body: { type: 'web_api', description: 'laptop', password: 'pass-1234' },
    });
    expect(created.status).toBe(201);
    expect(created.json.key).toMatchObject({ type: 'web_api', status: 'active' });
    expect(created.json.pem).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    const pfx = Buffer.from(created.json.pfx_base64 as string, 'base64');
    const key = { pfx, passphrase: 'pass-1234' };
    expect((await inst.web('/api/tasks', { key })).status).toBe(200);

    const listed = (await ada('/api/site/keys')).json.keys;
    expect(listed).toEqual([
      expect.objectContaining({ id: created.json.key.id, description: 'laptop', status: 'active' }),
    ]);
    expect(listed[0].expires_at).toBeGreaterThan(listed[0].created_at);
    expect(JSON.stringify(listed)).not.toContain('pass-1234');

    // Another organisation neither sees the key nor can revoke it.
    expect((await eve('/api/site/keys')).json.keys).toEqual([]);
    const foreign = await eve(`/api/site/keys/${created.json.key.id}`, { method: 'DELETE' });
    expect(foreign.status).toBe(404);
    expect(errorCode(foreign)).toBe('KEY_NOT_FOUND');

    // The legacy 3DES export, for old keychains, and (by Ada Labs' data owner, since analysts may
    // not upload: test/security/key-roles.test.ts) an upload key for one named user.
    const legacy = await ada('/api/site/keys', {
      body: { type: 'web_api', description: 'old mac', password: 'pass-1234', legacy_pkcs12: true },
    });
    const legacyKey = {
      pfx: Buffer.from(legacy.json.pfx_base64, 'base64'),
      passphrase: 'pass-1234',
    };
    expect(legacyKey.pfx.equals(pfx)).toBe(false);
    expect((await inst.web('/api/tasks', { key: legacyKey })).status).toBe(200);
    const owner = await analystSession(inst, admin, adaOrg, 'olga@ada.test', 'data_owner');
    const oneUser = await owner('/api/site/keys', {
      body: { type: 'upload_user', description: 'phone', password: 'pass-1234', user_id: 'u-7' },
    });
    expect(oneUser.json.key).toMatchObject({ type: 'upload_user', user_id: 'u-7' });

    const revoked = await ada(`/api/site/keys/${created.json.key.id}`, { method: 'DELETE' });
    expect(revoked.json.key.status).toBe('revoked');
    const refused = await inst
      .web('/api/tasks', { key })
      .then((r) => r.status)
      .catch(() => 'tls');
    expect([401, 'tls']).toContain(refused);
  });

  it('defines and alters tables through the cloak, with anonymized user counts', async () => {
    const created = await ada('/api/site/tables', {
      body: { name: 'visits', columns: [{ name: 'g', type: 'integer' }] },
    });
    expect(created.status).toBe(201);
    const bad = await ada('/api/site/tables', {
      body: { name: 'bad', columns: [{ name: 'x', type: 'money' }] },
    });
    expect(bad.status).toBe(422);
    expect(errorCode(bad)).toBe('INVALID_COLUMN_TYPE');
    const altered = await ada('/api/site/tables/visits', {
      method: 'PATCH',
      body: { add: [{ name: 'page', type: 'text' }] },
    });
    expect(altered.json.table.columns.map((c: { name: string }) => c.name)).toEqual(['g', 'page']);

    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`u${u}`] = { visits: [{ g: u % 3, page: '/' }] };
    await inst.platform.cloak.data.insert(adaOrg, rows);
    const counts = (await ada('/api/site/tables/counts')).json.counts;
    expect(counts).toHaveLength(1);
    expect(counts[0].table).toBe('visits');
    // Count noise of sd 10 (at most 30) and half a rounding step of 10.
    expect(Math.abs(counts[0].users - USERS)).toBeLessThanOrEqual(35);

    expect((await eve('/api/site/tables')).json.tables).toEqual([]);
    // Analysts never erase data (test/security/data-erase-roles.test.ts); a data owner of Eve's
    // organisation gets the same answer as for a table that exists nowhere.
    const eveOwner = await analystSession(inst, admin, eveOrg, 'owner@eve.test', 'data_owner');
    expect(errorCode(await eveOwner('/api/site/tables/visits', { method: 'DELETE' }))).toBe(
      'UNKNOWN_TABLE',
    );
    await ada('/api/site/tables', {
      body: { name: 'scratch', columns: [{ name: 'x', type: 'integer' }] },
    });
    expect(errorCode(await ada('/api/site/tables/scratch', { method: 'DELETE' }))).toBe(
      'DATA_ERASE_NOT_ALLOWED',
    );
    const adaOwner = await analystSession(inst, admin, adaOrg, 'owner@ada.test', 'data_owner');
    expect((await adaOwner('/api/site/tables/scratch', { method: 'DELETE' })).status).toBe(200);
    expect((await ada('/api/site/tables')).json.tables).toHaveLength(1);
  });

  it('tries a task on test users only, without reading real rows', async () => {
    const tried = await ada('/api/site/tasks/try', {
      body: {
        code: CODE,
        prefetch: [{ table: 'visits' }],
        users: [
          { id: 'test-1', tables: { visits: [{ g: 41 }] } },
          { id: 'test-2', tables: { visits: [] } },
        ],
      },
    });
    expect(tried.status).toBe(200);
    expect(tried.json.users).toEqual([
      { id: 'test-1', ok: true, properties: [['group', '41']] },
      { id: 'test-2', ok: false, error: expect.stringMatching(/TypeError/) },
    ]);
    const unknown = await eve('/api/site/tasks/try', {
      body: { code: CODE, prefetch: [{ table: 'visits' }], users: [{ id: 'a', tables: {} }] },
    });
    expect(errorCode(unknown)).toBe('UNKNOWN_TABLE');
  });

  it('creates, runs in the background, pages results, exports CSV and deletes results and tasks', async () => {
    const created = await ada('/api/site/tasks', {
      body: { name: 'groups', code: CODE, prefetch: [{ table: 'visits' }] },
    });
    expect(created.status).toBe(201);
    const token = created.json.task.token as string;
    expect(created.json.task).toMatchObject({ name: 'groups', code: CODE, language: 'javascript' });
    const renamed = await ada(`/api/site/tasks/${token}`, {
      method: 'PUT',
      body: { name: 'groups-by-g' },
    });
    expect(renamed.json.task.name).toBe('groups-by-g');

    const started = await ada(`/api/site/tasks/${token}/run`, { method: 'POST' });
    expect(started.status).toBe(202);
    const run = await until(
      async () => (await ada(`/api/site/tasks/${token}/runs/${started.json.run.id}`)).json.run,
      (r) => r.state !== 'running',
    );
    // Progress follows the release schedule: the table's users rounded up to a power of two.
    expect(run).toMatchObject({ state: 'completed', users_done: 512, users_total: 512 });
    const runs = (await ada(`/api/site/tasks/${token}/runs`)).json.runs;
    expect(runs.map((r: { id: string }) => r.id)).toEqual([run.id]);
    const cancelEnded = await ada(`/api/site/tasks/${token}/runs/${run.id}`, { method: 'DELETE' });
    expect(errorCode(cancelEnded)).toBe('RUN_NOT_ACTIVE');
    expect(errorCode(await ada(`/api/site/tasks/${token}/runs/nope`))).toBe('RUN_NOT_FOUND');

    const page = (await ada(`/api/site/tasks/${token}/results?per_page=5`)).json;
    expect(page).toMatchObject({ count: 1, page: 1, per_page: 5 });
    const result = page.results[0];
    expect(result.id).toBe(run.result_id);
    expect(result.buckets.map((b: { label: string; value: string }) => b.value).sort()).toEqual([
      '0',
      '1',
      '2',
    ]);
    expect(result.buckets[0].name).toBe(`group: ${result.buckets[0].value}`);
    const listed = (await ada('/api/site/tasks')).json.tasks;
    expect(listed).toEqual([expect.objectContaining({ token, results: 1 })]);

    const csv = await ada(`/api/site/tasks/${token}/results.csv`);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe('result_id,published_at,kind,label,value,count');

    // Eve's organisation cannot see, run or delete Ada's task or its results.
    expect((await eve('/api/site/tasks')).json.tasks).toEqual([]);
    for (const [path, method] of [
      [`/api/site/tasks/${token}`, 'GET'],
      [`/api/site/tasks/${token}/results`, 'GET'],
      [`/api/site/tasks/${token}/run`, 'POST'],
      [`/api/site/tasks/${token}/results/${result.id}`, 'DELETE'],
    ] as const) {
      const response = await eve(path, { method });
      expect(response.status, path).toBe(404);
      expect(errorCode(response)).toBe('TASK_NOT_FOUND');
    }

    const deleted = await ada(`/api/site/tasks/${token}/results/${result.id}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(200);
    expect((await ada(`/api/site/tasks/${token}/results`)).json.count).toBe(0);
    expect((await ada(`/api/site/tasks/${token}`, { method: 'DELETE' })).status).toBe(200);
    expect((await ada('/api/site/tasks')).json.tasks).toEqual([]);
  });

  it('lets only admins manage organisations, users and roles, and read the audit log', async () => {
    for (const [path, method] of [
      ['/api/site/admin/organisations', 'GET'],
      ['/api/site/admin/users', 'GET'],
      ['/api/site/admin/audit', 'GET'],
      ['/api/site/admin/organisations', 'POST'],
    ] as const) {
      const response = await ada(path, {
        method,
        body: method === 'POST' ? { name: 'x' } : undefined,
      });
      expect(response.status, path).toBe(403);
      expect(errorCode(response)).toBe('ADMIN_REQUIRED');
    }

    const org = await admin('/api/site/admin/organisations', { body: { name: 'New Org' } });
    expect(org.status).toBe(201);
    const names = (await admin('/api/site/admin/organisations')).json.organisations.map(
      (o: { name: string }) => o.name,
    );
    expect(names).toEqual(expect.arrayContaining(['Ada Labs', 'Eve Corp', 'New Org']));

    const shortPassword = await admin('/api/site/admin/users', {
      body: {
        org_id: org.json.organisation.id,
        email: 'bo@new.test',
        name: 'Bo',
        password: 'short',
      },
    });
    expect(shortPassword.status).toBe(422);
    const bo = await analystSession(inst, admin, org.json.organisation.id, 'bo@new.test');
    expect((await bo('/api/site/admin/users')).status).toBe(403);
    const users = (await admin('/api/site/admin/users')).json.users;
    const boId = users.find((u: { email: string }) => u.email === 'bo@new.test').id;
    const promoted = await admin(`/api/site/admin/users/${boId}/role`, {
      method: 'PUT',
      body: { role: 'admin' },
    });
    expect(promoted.json.user.role).toBe('admin');
    expect((await bo('/api/site/admin/users')).status).toBe(200);
    const missing = await admin('/api/site/admin/users/nobody/role', {
      method: 'PUT',
      body: { role: 'admin' },
    });
    expect(errorCode(missing)).toBe('ANALYST_NOT_FOUND');

    const audit = (await admin(`/api/site/admin/audit?org_id=${adaOrg}`)).json.entries;
    const events = audit.map((e: { event: string }) => e.event);
    expect(events).toEqual(
      expect.arrayContaining(['key.created', 'key.downloaded', 'key.revoked', 'login.succeeded']),
    );
    expect(JSON.stringify(audit)).not.toContain('pass-1234');
  });
});
