// Through the whole path: no state passes between users, and one user's loop or memory bomb is that user's exception.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOISELESS_SETTINGS } from '../../src/anonymizer/index.ts';
import { TaskRunner } from '../../src/cloak/index.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

/** Users whose run completes: enough for their bucket to be published (a noisy count of 43). */
const GOOD_USERS = 100;
/**
 * Users whose run loops or bombs: few, since each costs a fresh isolate. An exception bucket of
 * 12 is rarely published by the installation's anonymizer, so their exception is counted by a
 * noiseless run over the same data and sandbox limits (exact counts). Each limit test so runs
 * the task twice, and allows 4 minutes for it on a busy machine.
 */
const BAD_USERS = 12;
const USERS = GOOD_USERS + BAD_USERS;
/** Count noise of sd 10 at most 3 sd, plus half a rounding step of 10. */
const TOLERANCE = 35;

describe('task isolation and limits, end to end', () => {
  // Short time limit for the loop test; a generous one where the memory limit must trip first.
  let quick: TestInstallation;
  let roomy: TestInstallation;

  async function installWithUsers(sandbox: { timeoutMs: number; memoryLimitMb: number }) {
    // Several tasks over the same users: under the default participation budget the later runs
    // would leave them out of fresh buckets. This test is about isolation and limits, so it
    // raises the budget well above what it spends. Nor is it about timing: with the release
    // schedule, one run slowed by a busy machine raises the organisation's epoch, and every later
    // run then waits for the whole-run limit (test/attacks/timing-channel covers the schedule).
    const inst = await startTestInstallation({
      sandbox,
      privacy: { participationRho: 10, releaseSchedule: false },
    });
    const orgId = await inst.createOrg('Isolation');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 't',
      columns: [{ name: 'n', type: 'integer' }],
    });
    const rows: Record<string, unknown> = {};
    for (let i = 0; i < USERS; i++) rows[`user${String(i).padStart(3, '0')}`] = { t: [{ n: i }] };
    await inst.platform.cloak.data.insert(orgId, rows);
    return inst;
  }

  beforeAll(async () => {
    quick = await installWithUsers({ timeoutMs: 100, memoryLimitMb: 64 });
    roomy = await installWithUsers({ timeoutMs: 20_000, memoryLimitMb: 32 });
  });
  afterAll(async () => {
    await quick.stop();
    await roomy.stop();
  });

  const run = async (name: string, code: string, inst = quick) => {
    const orgId = (await inst.platform.air.organisations.findByName('Isolation'))!.id;
    const task = await inst.platform.tasks.create(orgId, {
      name,
      type: 'batch',
      prefetch: [{ table: 't' }],
      code,
    });
    return await inst.platform.tasks.runBatch(orgId, task.token);
  };
  /** The same code run by the cloak's task runner with the installation's sandbox limits, noiseless. */
  const runExactly = async (code: string, inst = quick) => {
    const orgId = (await inst.platform.air.organisations.findByName('Isolation'))!.id;
    const runner = new TaskRunner(inst.platform.cloak.data, {
      secret: new Uint8Array(32).fill(7),
      limits: { ...inst.platform.config.sandbox },
      runTimeoutSeconds: 120,
      anonymizer: { ...NOISELESS_SETTINGS, minRoundingStep: 1 },
    });
    return runner.run(orgId, { prefetch: [{ table: 't' }], post_processing: { code } });
  };

  it('reports nothing learned from earlier users through globals, prototypes or closures', async () => {
    const result = await run(
      'remember earlier users',
      `
      const n = tables.t[0].n;
      globalThis.seen = (globalThis.seen || 0) + 1;
      Object.prototype.__seen = (Object.prototype.__seen || 0) + 1;
      var counter = (typeof counter === 'number' ? counter : 0) + 1;
      report_property("seen via global", globalThis.seen);
      report_property("seen via prototype", ({}).__seen === undefined ? "blocked" : ({}).__seen);
      report_property("seen via var", counter);
      `,
    );
    // Every user sees a fresh world: counts of 1, or the prototype write fails as an exception.
    for (const bucket of result.buckets) {
      expect(['1', 'blocked']).toContain(bucket.value);
    }
    const labels = result.buckets.map((b) => `${b.label}: ${b.value}`);
    expect(labels).not.toContain('seen via global: 2');
    const total =
      result.buckets.reduce((sum, b) => sum + b.count, 0) +
      result.exceptions.reduce((s, e) => s + e.count, 0);
    expect(total).toBeGreaterThan(0);
  });

  it('turns an infinite loop for some users into a timeout exception while all others complete', async () => {
    const code = `const n = tables.t[0].n; if (n < ${BAD_USERS}) { while (true) {} } report_property("ok", "yes");`;
    const result = await run('loop for some', code);
    const ok = result.buckets.find((b) => b.label === 'ok');
    expect(Math.abs(ok!.count - GOOD_USERS)).toBeLessThanOrEqual(TOLERANCE);
    for (const e of result.exceptions) expect(e.error).toMatch(/^Timeout/);
    const exact = await runExactly(code);
    expect(exact.buckets).toEqual([{ label: 'ok', value: 'yes', count: GOOD_USERS }]);
    expect(exact.exceptions).toHaveLength(1);
    expect(exact.exceptions[0]!.error).toMatch(/^Timeout/);
    expect(exact.exceptions[0]!.count).toBe(BAD_USERS);
  }, 240_000);

  it('turns a memory bomb for some users into an out-of-memory exception while all others complete', async () => {
    const code = `const n = tables.t[0].n; if (n >= ${GOOD_USERS}) { const a = []; while (true) a.push(new Array(100000).fill(n)); } report_property("ok", "yes");`;
    const result = await run('memory bomb for some', code, roomy);
    const ok = result.buckets.find((b) => b.label === 'ok');
    expect(Math.abs(ok!.count - GOOD_USERS)).toBeLessThanOrEqual(TOLERANCE);
    for (const e of result.exceptions) expect(e.error).toMatch(/^Out of memory/);
    const exact = await runExactly(code, roomy);
    expect(exact.buckets).toEqual([{ label: 'ok', value: 'yes', count: GOOD_USERS }]);
    expect(exact.exceptions).toEqual([
      { error: 'Out of memory: the task used more than 32 MB for this user', count: BAD_USERS },
    ]);
  }, 240_000);
});
