// Background runs over the web REST API: progress, cancellation, the per-organisation cap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

const USERS = 20_000;
/** Several rows per user: progress counts users, not rows (60,000 rows would show as 65,536). */
const ROWS_PER_USER = 3;
/** What progress counts: the release schedule rounds the table's users up to a power of two. */
const SCHEDULED_USERS = 32_768;
/** About a millisecond per user, so a run lasts long enough to watch and to cancel. */
const SLOW = `let x = 0; for (let i = 0; i < 300000; i++) x += i % 7;
report_property("group", tables.t[0].g);`;
const FAST = 'report_property("group", tables.t[0].g);';

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in 30 s');
}

describe('task runs', () => {
  let inst: TestInstallation;
  let orgId: string;
  let key: TestKey;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    inst = await startTestInstallation({ cloak: { maxRunsPerOrganisation: 1 } });
    orgId = await inst.createOrg('Runs');
    key = await inst.issueKey(orgId, 'web_api');
    const { data } = inst.platform.cloak;
    await data.createTable(orgId, { name: 't', columns: [{ name: 'g', type: 'integer' }] });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) {
      rows[`u${u}`] = { t: Array.from({ length: ROWS_PER_USER }, () => ({ g: u % 4 })) };
    }
    await data.insert(orgId, rows);
    for (const [name, code] of [
      ['slow', SLOW],
      ['fast', FAST],
    ]) {
      const created = await inst.web('/api/tasks', {
        key,
        body: { name, code, prefetch: [{ table: 't' }] },
      });
      tokens[name!] = created.json.task.token;
    }
  });
  afterAll(() => inst.stop());

  const runUrl = (task: string, run = '') => `/api/tasks/${tokens[task]}/runs${run && `/${run}`}`;
  const readRun = async (task: string, id: string) =>
    (await inst.web(runUrl(task, id), { key })).json.run;

  it('reports progress, and a cancelled run stops early and publishes nothing', async () => {
    const started = await inst.web(`/api/tasks/${tokens.slow}/run`, { key, body: { wait: false } });
    expect(started.status).toBe(202);
    expect(started.json.run).toMatchObject({ state: 'running', result_id: null });
    const id = started.json.run.id as string;

    const midway = await until(
      () => readRun('slow', id),
      (run) => run.users_done > 0,
    );
    expect(midway.users_total).toBe(SCHEDULED_USERS);
    expect(midway.users_done).toBeLessThan(SCHEDULED_USERS);

    // Only one run per organisation here: a second one is refused with a way out.
    const second = await inst.web(`/api/tasks/${tokens.fast}/run`, { key, body: { wait: false } });
    expect(second.status).toBe(429);
    expect(second.json.error).toMatch(/cancel one with DELETE/);

    const cancelled = await inst.web(runUrl('slow', id), { key, method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    const final = await until(
      () => readRun('slow', id),
      (run) => run.state !== 'running',
    );
    expect(final.state).toBe('cancelled');
    expect(final.users_done).toBeLessThan(SCHEDULED_USERS);
    expect(final.result_id).toBeNull();
    const results = await inst.web(`/api/tasks/${tokens.slow}/results`, { key });
    expect(results.json.count).toBe(0);

    const again = await inst.web(runUrl('slow', id), { key, method: 'DELETE' });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatch(/already cancelled/);
  });

  it('completes a background run, publishes its result and lists it newest first', async () => {
    const started = await inst.web(`/api/tasks/${tokens.fast}/run`, { key, body: { wait: false } });
    expect(started.status).toBe(202);
    const id = started.json.run.id as string;
    const final = await until(
      () => readRun('fast', id),
      (run) => run.state !== 'running',
    );
    expect(final).toMatchObject({
      state: 'completed',
      users_done: SCHEDULED_USERS,
      users_total: SCHEDULED_USERS,
    });
    const results = await inst.web(`/api/tasks/${tokens.fast}/results`, { key });
    expect(results.json.results[0].id).toBe(final.result_id);
    const list = await inst.web(runUrl('fast'), { key });
    expect(list.json.runs.map((r: { id: string }) => r.id)).toEqual([id]);
  });

  it('still answers with the result when the caller waits (the default)', async () => {
    const waited = await inst.web(`/api/tasks/${tokens.fast}/run`, { key, method: 'POST' });
    expect(waited.status).toBe(200);
    expect(waited.json.run.state).toBe('completed');
    expect(waited.json.result.buckets.length).toBeGreaterThan(0);
  });

  it("hides runs of unknown ids and of other organisations' tasks", async () => {
    const missing = await inst.web(runUrl('fast', 'nope'), { key });
    expect(missing.status).toBe(404);
    const otherOrg = await inst.createOrg('Other');
    const otherKey = await inst.issueKey(otherOrg, 'web_api');
    const foreign = await inst.web(runUrl('fast'), { key: otherKey });
    expect(foreign.status).toBe(404);
    const bad = await inst.web(`/api/tasks/${tokens.fast}/run`, { key, body: { wait: 'no' } });
    expect(bad.status).toBe(422);
  });
});
