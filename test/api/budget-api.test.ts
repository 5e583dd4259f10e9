// The budget over the APIs: GET /api/budget shows published notices only, a cost preview spends nothing but its k and shows no bucket, a trusted preview has no cost.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ANONYMIZER_SETTINGS } from '../../src/anonymizer/index.ts';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import {
  analystSession,
  errorCode,
  loginToSite,
  type SiteClient,
} from '../support/site-session.ts';
import { priceOf } from '../../src/cloak/budget-pricing.ts';

/**
 * 400 users in one group, and a budget for one fresh bucket of that size each (sd 28: 0.00064, of
 * a budget of 1.5 times that), so after one run under a label, a run under another leaves every
 * one of them out; 400 is far above the notices' noise (sd 37 for the second, 50 for the third),
 * so they say so whatever the secret.
 */
const USERS = 400;
const ONE_BUCKET = 1.5 * priceOf(USERS, DEFAULT_ANONYMIZER_SETTINGS);
const LABEL_B = 'label-only-task-b-reports';
const NOTICE_KEYS = [
  'budgeted',
  'may_be_low',
  'message',
  'noise_sd',
  'period_run',
  'renews_at',
  'users_exhausted',
  'users_left_out',
];

describe('the participation budget over the APIs', () => {
  let inst: TestInstallation;
  let orgId: string;
  let key: TestKey;
  let admin: SiteClient;
  let ada: SiteClient;
  let cloakDb: Database.Database;
  const token: Record<string, string> = {};

  const createTask = async (name: string, code: string, extra: Record<string, unknown> = {}) => {
    const created = await inst.web('/api/tasks', {
      key,
      body: { name, code, prefetch: [{ table: 'people' }], ...extra },
    });
    expect(created.status, created.text).toBe(201);
    token[name] = created.json.task.token;
  };
  const preview = (name: string, body: unknown = {}) =>
    inst.web(`/api/tasks/${token[name]}/preview`, { key, body });
  const budget = async (query = '') => {
    const answer = await inst.web(`/api/budget${query}`, { key });
    expect(answer.status, answer.text).toBe(200);
    return answer.json.budget;
  };
  /** What the cloak stores about users' spending and settled buckets: a preview leaves it alone. */
  const spending = () => ({
    users: cloakDb.prepare('SELECT * FROM budget_pages ORDER BY page').all(),
    buckets: cloakDb.prepare('SELECT * FROM budget_buckets ORDER BY hash').all(),
  });

  beforeAll(async () => {
    inst = await startTestInstallation({ privacy: { participationRho: ONE_BUCKET } });
    orgId = await inst.createOrg('Budget');
    key = await inst.issueKey(orgId, 'web_api');
    const { data } = inst.platform.cloak;
    await data.createTable(orgId, { name: 'people', columns: [{ name: 'city', type: 'text' }] });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`u${u}`] = { people: [{ city: 'Oslo' }] };
    await data.insert(orgId, rows);
    await createTask('a', 'report_property("a", tables.people[0].city);');
    await createTask('b', `report_property(${JSON.stringify(LABEL_B)}, tables.people[0].city);`);
    const first = inst.platform.initialAdmin!;
    admin = await loginToSite(inst, first.email, first.password);
    ada = await analystSession(inst, admin, orgId, 'ada@budget.test');
    cloakDb = new Database(path.join(inst.dataDir, 'cloak.db'), { readonly: true });
  });
  afterAll(async () => {
    cloakDb?.close();
    await inst?.stop();
  });

  it('shows an organisation with no runs yet: settings, and the first notice’s noise next', async () => {
    expect(await budget()).toEqual({
      enabled: true,
      rho: ONE_BUCKET,
      disclosure_rho: expect.closeTo(0.0054, 4),
      period_days: 0,
      renews_at: null,
      runs_this_period: 0,
      next_noise_sd: 22,
      disclosures: [],
    });
  });

  it('refuses another key type, and a limit that is not a whole number from 1 to 100', async () => {
    const runner = await inst.issueKey(orgId, 'task_runner');
    const wrongKey = await inst.web('/api/budget', { key: runner });
    expect(wrongKey.status).toBe(401);
    expect(errorCode(wrongKey)).toBe('WRONG_KEY_TYPE');
    for (const limit of ['0', '101', 'ten', '1.5']) {
      const bad = await inst.web(`/api/budget?limit=${limit}`, { key });
      expect(bad.status, limit).toBe(422);
      expect(errorCode(bad)).toBe('INVALID_PARAMETER');
      expect(bad.json.error).toContain('"limit" must be a whole number from 1 to 100');
    }
  });

  it('puts the run’s notice beside its result, in the API and on the site, and logs it', async () => {
    const run = await inst.web(`/api/tasks/${token.a}/run`, { key, body: {} });
    expect(run.status, run.text).toBe(200);
    const notice = run.json.result.budget;
    expect(notice).toMatchObject({ may_be_low: false, period_run: 1, noise_sd: 22 });
    const site = await ada(`/api/site/tasks/${token.a}/results`);
    expect(site.json.results[0].budget).toEqual(notice);
    const state = await budget();
    expect(state).toMatchObject({ runs_this_period: 1, next_noise_sd: 37 });
    expect(state.disclosures).toEqual([
      { ...notice, kind: 'run', at: expect.any(Number), period: 0 },
    ]);
  });

  it('previews a run that would leave everyone out: says so, spends nothing, takes its k, shows no bucket', async () => {
    const before = spending();
    const answer = await preview('b');
    expect(answer.status, answer.text).toBe(200);
    const shown = answer.json.preview;
    expect(Object.keys(shown).sort()).toEqual(NOTICE_KEYS);
    expect(shown).toMatchObject({ budgeted: true, may_be_low: true, period_run: 2 });
    expect(Math.abs(shown.users_left_out - USERS)).toBeLessThan(4 * 37 + 5);
    expect(shown.message).toMatch(/^This task would leave out about \d+ users/);
    // Nothing that came from a bucket: not its label, its value, or how many there were.
    expect(answer.text).not.toContain(LABEL_B);
    expect(answer.text).not.toContain('Oslo');
    expect(answer.text).not.toMatch(/bucket_count|"buckets"|"count"/);
    // Nobody's spending and no bucket memory changed, and nothing was published.
    expect(spending()).toEqual(before);
    expect((await inst.web(`/api/tasks/${token.b}/results`, { key })).json.count).toBe(0);
    const runs = (await inst.web(`/api/tasks/${token.b}/runs`, { key })).json.runs;
    expect(runs[0]).toMatchObject({ kind: 'preview', state: 'completed', result_id: null });

    const state = await budget();
    expect(state.runs_this_period).toBe(2);
    const { budgeted: _, ...notice } = shown;
    expect(state.disclosures[0]).toEqual({
      ...notice,
      kind: 'preview',
      at: expect.any(Number),
      period: 0,
    });

    // The real run is the period's third notice, and leaves everyone out as the preview said.
    const run = await inst.web(`/api/tasks/${token.b}/run`, { key, body: {} });
    expect(run.json.result.buckets).toEqual([]);
    expect(run.json.result.budget).toMatchObject({ period_run: 3, may_be_low: true });
  });

  it('answers a bad preview request with the usual errors', async () => {
    await createTask('stream', 'report_property("s", tables.people[0].city);', {
      type: 'streaming',
      schedule: { report_interval: 3600, user_expire_interval: 86400 },
    });
    const streaming = await preview('stream');
    expect(streaming.status).toBe(400);
    expect(errorCode(streaming)).toBe('TASK_NOT_PREVIEWABLE');
    const unknown = await inst.web('/api/tasks/no-such-task/preview', { key, body: {} });
    expect(unknown.status).toBe(404);
    expect(errorCode(unknown)).toBe('TASK_NOT_FOUND');
    const extra = await preview('a', { wait: false });
    expect(extra.status).toBe(422);
    expect(errorCode(extra)).toBe('INVALID_BODY');
    expect((await budget()).runs_this_period).toBe(3);
  });

  it('gives the site the same state, and previews on the site with the CSRF token only', async () => {
    expect((await ada('/api/site/budget?limit=2')).json.budget).toEqual(await budget('?limit=2'));
    const noCsrf = await ada(`/api/site/tasks/${token.a}/preview`, { csrf: false, body: {} });
    expect(noCsrf.status).toBe(403);
    const shown = await ada(`/api/site/tasks/${token.a}/preview`, { body: {} });
    expect(shown.status, shown.text).toBe(200);
    // Task a was shown before: a rerun is free, nobody would be left out.
    expect(shown.json.preview).toMatchObject({ budgeted: true, period_run: 4 });
  });

  it('tells a trusted analyst that their runs are not charged, without running or taking a k', async () => {
    const tess = await analystSession(inst, admin, orgId, 'tess@budget.test');
    const id = (await inst.platform.air.organisations.analystByEmail('tess@budget.test'))!.id;
    const level = await admin(`/api/site/admin/users/${id}/access_level`, {
      method: 'PUT',
      body: { access_level: 'trusted' },
    });
    expect(level.status, level.text).toBe(200);
    const created = await tess('/api/site/tasks', {
      body: { name: 'trusted', code: 'report_property("t", 1);', prefetch: [{ table: 'people' }] },
    });
    expect(created.status, created.text).toBe(201);
    const before = await budget();
    const shown = await tess(`/api/site/tasks/${created.json.task.token}/preview`, { body: {} });
    expect(shown.json.preview).toEqual({
      budgeted: false,
      message: expect.stringMatching(/trusted: they are not charged to the participation budget/),
    });
    expect(await budget()).toEqual(before);
    // An untrusted analyst previewing the same task is budgeted: the lower level counts.
    const untrusted = await ada(`/api/site/tasks/${created.json.task.token}/preview`, { body: {} });
    expect(untrusted.json.preview.budgeted).toBe(true);
  });
});
