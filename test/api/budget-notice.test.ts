// Through the web REST API: once users have spent the budget, the next answer says that counts may be low.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

const USERS = 2_000;
/** Each user in 20 fresh buckets of about 100 users (sd 10, 0.005 each): 0.1, twice the budget. */
const WIDE = `for (let i = 0; i < 20; i++) report_property("q" + i, String(tables.t[0].g));`;
const ASK_AGAIN = 'report_property("again", String(tables.t[0].g));';

describe('the budget notice of a run', () => {
  let inst: TestInstallation;
  let key: TestKey;
  let orgId: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    // The defaults, budget on, minus the release schedule (it only delays the answers).
    inst = await startTestInstallation({ privacy: { releaseSchedule: false } });
    orgId = await inst.createOrg('Budget');
    key = await inst.issueKey(orgId, 'web_api');
    const { data } = inst.platform.cloak;
    await data.createTable(orgId, { name: 't', columns: [{ name: 'g', type: 'integer' }] });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`u${u}`] = { t: [{ g: u % 20 }] };
    await data.insert(orgId, rows);
    for (const [name, code] of [
      ['wide', WIDE],
      ['again', ASK_AGAIN],
    ] as const) {
      const created = await inst.web('/api/tasks', {
        key,
        body: { name, code, prefetch: [{ table: 't' }] },
      });
      tokens[name] = created.json.task.token;
    }
  });
  afterAll(() => inst.stop());

  const run = async (task: string) => {
    const answer = await inst.web(`/api/tasks/${tokens[task]}/run`, { key, body: {} });
    expect(answer.status).toBe(200);
    return answer.json.result;
  };

  it('says nothing is missing on a fresh organisation, then that counts may be low once users ran out', async () => {
    const first = await run('again');
    expect(first.budget).toMatchObject({ may_be_low: false, period_run: 1, renews_at: null });
    expect(first.budget.message).toMatch(
      /^Too few users left out by the participation budget to show/,
    );
    expect(first.buckets).toHaveLength(20);

    // Twenty fresh buckets per user: halfway through, every user has spent the budget.
    const wide = await run('wide');
    expect(wide.budget.may_be_low).toBe(true);
    expect(wide.budget.users_left_out).toBeGreaterThan(USERS / 2);

    // Asked again under a new label: fresh buckets nobody can pay for. The answer says so.
    await inst.web(`/api/tasks/${tokens.again}`, {
      key,
      method: 'PUT',
      body: { code: ASK_AGAIN.replace('"again"', '"asked again"') },
    });
    const after = await run('again');
    expect(after.buckets).toEqual([]);
    expect(after.budget).toMatchObject({ may_be_low: true, period_run: 3 });
    expect(Math.abs(after.budget.users_left_out - USERS)).toBeLessThan(4 * after.budget.noise_sd);
    expect(after.budget.message).toMatch(/left out .* budget.* may be low/);

    // The Tables page's user counts are the cloak's own task over what data owners uploaded:
    // outside the budget, so they still count everyone and spend no notice.
    const [counted] = await inst.platform.cloakPort.userCounts(orgId);
    expect(counted!.table).toBe('t');
    expect(Math.abs(counted!.users! - USERS)).toBeLessThanOrEqual(3 * 60 + 50); // sd 60, step 100
    await inst.web(`/api/tasks/${tokens.again}`, {
      key,
      method: 'PUT',
      body: { code: ASK_AGAIN.replace('"again"', '"a third time"') },
    });
    const third = await run('again');
    expect(third.budget.period_run).toBe(4);

    // The stored results, as the seed's results API serves them, carry the same notices.
    const listed = await inst.web(`/api/task_results/${tokens.again}`, { key });
    expect(listed.json.items.map((item: { budget: unknown }) => item.budget)).toEqual([
      third.budget,
      after.budget,
      first.budget,
    ]);
  });
});
