// Access levels: only trusted analysts' runs skip the budget, they are audited with their code, and nobody raises their own level.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ANONYMIZER_SETTINGS } from '../../src/anonymizer/index.ts';
import type { TestKey, TestResponse } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import {
  analystSession,
  errorCode,
  loginToSite,
  type SiteClient,
} from '../support/site-session.ts';
import { until } from '../support/until.ts';
import { priceOf } from '../../src/cloak/budget-pricing.ts';

/**
 * 100 users in one small group (large enough to be published: the noisy count must reach 43;
 * small enough for the noise of small counts, sd 10), and a budget for one fresh small bucket each
 * (0.005 of 0.0075, where the default allows ten): after one budgeted run under a label the second
 * label of a budgeted run publishes nobody, while a run without the budget publishes all of them,
 * whatever ran before.
 */
const USERS = 100;
/** Room for one fresh bucket of USERS users and not for two. */
const ONE_SMALL_BUCKET = 1.5 * priceOf(USERS, DEFAULT_ANONYMIZER_SETTINGS);
const PASSWORD = 'level-key-password';
const task = (label: string) => ({
  prefetch: [{ table: 'people' }],
  post_processing: { code: `report_property(${JSON.stringify(label)}, tables.people[0].city)` },
});

/** Users published under the label: about USERS when unbudgeted, 0 once the budget is spent. */
function published(answer: TestResponse, label: string): number {
  expect(answer.status, answer.text).toBe(200);
  const buckets = (answer.json.buckets ?? answer.json.result?.buckets) as Array<{
    name?: string;
    label?: string;
    value?: number;
    count?: number;
  }>;
  expect(Array.isArray(buckets), answer.text).toBe(true);
  return buckets
    .filter((b) => b.label === label || b.name?.startsWith(`${label}:`))
    .reduce((sum, b) => sum + (b.count ?? b.value ?? 0), 0);
}

describe('access levels', () => {
  let inst: TestInstallation;
  let orgId: string;
  let admin: SiteClient;
  let ursula: SiteClient; // untrusted
  let tess: SiteClient; // trusted
  const id = { ursula: '', tess: '' };
  const keys = {} as Record<'ursulaRunner' | 'ursulaWeb' | 'tessRunner' | 'tessWeb', TestKey>;

  const mintKey = async (site: SiteClient, type: string): Promise<TestKey> => {
    const answer = await site('/api/site/keys', {
      body: { type, description: `${type} key`, password: PASSWORD },
    });
    expect(answer.status, answer.text).toBe(201);
    return { pfx: Buffer.from(answer.json.pfx_base64 as string, 'base64'), passphrase: PASSWORD };
  };
  const setLevel = (person: string, level: string, by = admin) =>
    by(`/api/site/admin/users/${person}/access_level`, {
      method: 'PUT',
      body: { access_level: level },
    });
  const runOnCloak = (key: TestKey, label: string, extra: Record<string, unknown> = {}) =>
    inst.cloak('/task/run', { key, body: { ...task(label), ...extra } });
  const trustedRuns = async () =>
    (await inst.platform.air.audit.list(orgId, 1000)).filter((e) => e.event === 'task.run.trusted');

  beforeAll(async () => {
    inst = await startTestInstallation({
      privacy: { releaseSchedule: false, participationRho: ONE_SMALL_BUCKET },
    });
    const first = inst.platform.initialAdmin!;
    admin = await loginToSite(inst, first.email, first.password);
    orgId = await inst.createOrg('Levels');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'people',
      columns: [{ name: 'city', type: 'text' }],
    });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`u${u}`] = { people: [{ city: 'Oslo' }] };
    await inst.platform.cloak.data.insert(orgId, rows);
    ursula = await analystSession(inst, admin, orgId, 'ursula@levels.test');
    tess = await analystSession(inst, admin, orgId, 'tess@levels.test');
    id.ursula = (await inst.platform.air.organisations.analystByEmail('ursula@levels.test'))!.id;
    id.tess = (await inst.platform.air.organisations.analystByEmail('tess@levels.test'))!.id;
    // Keys minted while both are untrusted: the level is looked up per request, not baked in.
    keys.ursulaRunner = await mintKey(ursula, 'task_runner');
    keys.ursulaWeb = await mintKey(ursula, 'web_api');
    keys.tessRunner = await mintKey(tess, 'task_runner');
    keys.tessWeb = await mintKey(tess, 'web_api');
    expect((await setLevel(id.tess, 'trusted')).json.user.access_level).toBe('trusted');
  });
  afterAll(() => inst.stop());

  it('starts everyone untrusted, shows each person their own level, and audits changes', async () => {
    expect((await ursula('/auth/session')).json.user.access_level).toBe('untrusted');
    expect((await tess('/auth/session')).json.user.access_level).toBe('trusted');
    const users = (await admin('/api/site/admin/users')).json.users as Array<{
      email: string;
      access_level: string;
    }>;
    expect(users.find((u) => u.email === 'ursula@levels.test')!.access_level).toBe('untrusted');
    const change = await (
      await inst.platform.air.audit.list(orgId)
    ).find((e) => e.event === 'access_level.changed');
    expect(change).toMatchObject({
      actor: expect.stringMatching(/^analyst:/),
      detail: { user: id.tess, from: 'untrusted', to: 'trusted' },
    });
  });

  it('budgets an untrusted run, not a trusted one, and logs the trusted run with its code', async () => {
    expect(published(await runOnCloak(keys.tessRunner, 'a'), 'a')).toBeGreaterThan(USERS / 2);
    expect(published(await runOnCloak(keys.tessRunner, 'b'), 'b')).toBeGreaterThan(USERS / 2);
    const logged = (await trustedRuns()).find((e) => String(e.detail.code).includes('"b"'));
    expect(logged).toMatchObject({ actor: expect.stringMatching(/^key:/) });
    expect(JSON.parse(String(logged!.detail.prefetch))).toEqual([{ table: 'people' }]);

    // Trusted runs spent nothing: Ursula's first small bucket is published, her second is not.
    expect(published(await runOnCloak(keys.ursulaRunner, 'c'), 'c')).toBeGreaterThan(USERS / 2);
    expect(published(await runOnCloak(keys.ursulaRunner, 'd'), 'd')).toBe(0);
    expect((await trustedRuns()).some((e) => String(e.detail.code).includes('"c"'))).toBe(false);
    // The group is now spent for budgeted runs; a trusted one still sees everyone.
    expect(published(await runOnCloak(keys.tessRunner, 'e'), 'e')).toBeGreaterThan(USERS / 2);
  });

  it('takes no level from the request: body fields and headers cannot make a run trusted', async () => {
    const forged = await inst.cloak('/task/run', {
      key: keys.ursulaRunner,
      headers: { 'x-access-level': 'trusted', access_level: 'trusted' },
      body: { ...task('f'), access_level: 'trusted', trusted: true, level: 'trusted' },
    });
    expect(published(forged, 'f')).toBe(0);
    const keyWithLevel = await ursula('/api/site/keys', {
      body: { type: 'task_runner', description: 'x', password: PASSWORD, access_level: 'trusted' },
    });
    expect(keyWithLevel.status).toBe(422);
  });

  it('does not let an analyst raise their own level', async () => {
    const self = await setLevel(id.ursula, 'trusted', ursula);
    expect(self.status).toBe(403);
    expect(errorCode(self)).toBe('ADMIN_REQUIRED');
    // Nor by creating a trusted person, nor through the web API with their own key.
    const created = await ursula('/api/site/admin/users', {
      body: {
        org_id: orgId,
        email: 'sock@levels.test',
        name: 'Sock',
        password: 'sock-password-1',
        access_level: 'trusted',
      },
    });
    expect(created.status).toBe(403);
    const viaKey = await inst.web(`/api/site/admin/users/${id.ursula}/access_level`, {
      method: 'PUT',
      key: keys.ursulaWeb,
      body: { access_level: 'trusted' },
    });
    expect(viaKey.status).not.toBe(200);
    expect((await inst.platform.air.organisations.analyst(id.ursula))!.accessLevel).toBe(
      'untrusted',
    );
    expect(published(await runOnCloak(keys.ursulaRunner, 'g'), 'g')).toBe(0);
  });

  it('runs a task at the lower level of whoever saved it and whoever starts it', async () => {
    const save = (site: SiteClient, label: string) =>
      site('/api/site/tasks', {
        body: {
          name: `task ${label}`,
          prefetch: task(label).prefetch,
          code: task(label).post_processing.code,
        },
      }).then((r) => r.json.task.token as string);
    // Saved by Ursula, started by Tess on the site: untrusted.
    const ursulas = await save(ursula, 'h');
    const started = await tess(`/api/site/tasks/${ursulas}/run`, { method: 'POST' });
    const run = await until(
      async () => (await tess(`/api/site/tasks/${ursulas}/runs/${started.json.run.id}`)).json.run,
      (r) => r.state !== 'running',
    );
    expect(run.state).toBe('completed');
    const result = (await tess(`/api/site/tasks/${ursulas}/results`)).json.results[0];
    expect(published({ status: 200, json: { result }, headers: {}, text: '' }, 'h')).toBe(0);
    expect((await trustedRuns()).some((e) => String(e.detail.code).includes('"h"'))).toBe(false);
    // The same path with Tess's own task is trusted (so the check above can see a difference).
    const own = await save(tess, 'm');
    const ownRun = await tess(`/api/site/tasks/${own}/run`, { method: 'POST' });
    await until(
      async () => (await tess(`/api/site/tasks/${own}/runs/${ownRun.json.run.id}`)).json.run,
      (r) => r.state !== 'running',
    );
    const ownResult = (await tess(`/api/site/tasks/${own}/results`)).json.results[0];
    expect(
      published({ status: 200, json: { result: ownResult }, headers: {}, text: '' }, 'm'),
    ).toBeGreaterThan(USERS / 2);

    // Saved by Tess, started by Ursula's web API key: untrusted; started by Tess's: trusted.
    const tesss = await save(tess, 'j');
    const byUrsula = await inst.web(`/api/tasks/${tesss}/run`, { key: keys.ursulaWeb, body: {} });
    expect(published(byUrsula, 'j')).toBe(0);
    const tesss2 = await save(tess, 'i');
    const byTess = await inst.web(`/api/tasks/${tesss2}/run`, { key: keys.tessWeb, body: {} });
    expect(published(byTess, 'i')).toBeGreaterThan(USERS / 2);
    expect((await trustedRuns()).find((e) => e.detail.task === tesss2)).toMatchObject({
      detail: { via: 'web API', saved_by: `analyst:${id.tess}` },
    });
  });

  it("runs a periodic task at its saver's level, audited as started by the schedule", async () => {
    const { tasks, scheduler, air } = inst.platform;
    const periodic = async (label: string, personId: string) =>
      await tasks.create(
        orgId,
        {
          name: `every hour ${label}`,
          type: 'periodic',
          code: task(label).post_processing.code,
          prefetch: task(label).prefetch,
          schedule: { every_seconds: 3600 },
        },
        { actor: `analyst:${personId}`, personId },
      );
    const byTess = await periodic('n', id.tess);
    const byUrsula = await periodic('o', id.ursula);
    const started = await scheduler.tick(Date.now() + 3_601_000);
    expect(started).toEqual(expect.arrayContaining([byTess.id, byUrsula.id]));
    const publishedBy = async (t: typeof byTess, label: string) => {
      await until(
        async () => (await tasks.runs.list(orgId, t.id))[0]?.state,
        (state) => state !== undefined && state !== 'running',
      );
      const [result] = await air.results.page(t.id, 1, 1);
      return published({ status: 200, json: { result }, headers: {}, text: '' }, label);
    };
    expect(await publishedBy(byTess, 'n')).toBeGreaterThan(USERS / 2);
    expect(await publishedBy(byUrsula, 'o')).toBe(0);
    expect((await trustedRuns()).find((e) => e.detail.task === byTess.token)).toMatchObject({
      actor: 'scheduler',
      detail: { via: 'schedule' },
    });
  });

  it('applies a promotion and a demotion to existing keys at the next request', async () => {
    await setLevel(id.ursula, 'trusted');
    expect(published(await runOnCloak(keys.ursulaRunner, 'k'), 'k')).toBeGreaterThan(USERS / 2);
    await setLevel(id.ursula, 'untrusted');
    expect(published(await runOnCloak(keys.ursulaRunner, 'l'), 'l')).toBe(0);
    const changes = await (
      await inst.platform.air.audit.list(orgId)
    ).filter((e) => e.event === 'access_level.changed' && e.detail.user === id.ursula);
    expect(changes.map((e) => e.detail.to)).toEqual(['untrusted', 'trusted']);
  });
});
