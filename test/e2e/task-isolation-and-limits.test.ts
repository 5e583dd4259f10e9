// Through the whole path: no state passes between users, and one user's loop or memory bomb is that user's exception.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

const USERS = 60;
/** Above the threshold's cap (8.8): an exception bucket of them is always published. */
const BAD_USERS = 12;
/** Count noise of sd 10 at most 3 sd, plus half a rounding step of 10. */
const TOLERANCE = 35;

describe('task isolation and limits, end to end', () => {
  // Short time limit for the loop test; a generous one where the memory limit must trip first.
  let quick: TestInstallation;
  let roomy: TestInstallation;

  async function installWithUsers(sandbox: { timeoutMs: number; memoryLimitMb: number }) {
    // Several tasks over the same 60 users: under the default participation budget the later runs
    // would leave them out of fresh buckets. This test is about isolation and limits, so it
    // raises the budget well above what it spends.
    const inst = await startTestInstallation({ sandbox, privacy: { participationRho: 10 } });
    const orgId = inst.createOrg('Isolation');
    inst.platform.cloak.data.createTable(orgId, {
      name: 't',
      columns: [{ name: 'n', type: 'integer' }],
    });
    const rows: Record<string, unknown> = {};
    for (let i = 0; i < USERS; i++) rows[`user${String(i).padStart(3, '0')}`] = { t: [{ n: i }] };
    inst.platform.cloak.data.insert(orgId, rows);
    return inst;
  }

  beforeAll(async () => {
    quick = await installWithUsers({ timeoutMs: 200, memoryLimitMb: 64 });
    roomy = await installWithUsers({ timeoutMs: 20_000, memoryLimitMb: 32 });
  });
  afterAll(async () => {
    await quick.stop();
    await roomy.stop();
  });

  const run = (name: string, code: string, inst = quick) => {
    const orgId = inst.platform.air.organisations.findByName('Isolation')!.id;
    const task = inst.platform.tasks.create(orgId, {
      name,
      type: 'batch',
      prefetch: [{ table: 't' }],
      code,
    });
    return inst.platform.tasks.runBatch(orgId, task.token);
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
    const result = await run(
      'loop for some',
      `const n = tables.t[0].n; if (n < ${BAD_USERS}) { while (true) {} } report_property("ok", "yes");`,
    );
    const ok = result.buckets.find((b) => b.label === 'ok');
    expect(Math.abs(ok!.count - (USERS - BAD_USERS))).toBeLessThanOrEqual(TOLERANCE);
    expect(result.exceptions).toHaveLength(1);
    expect(result.exceptions[0]!.error).toMatch(/^Timeout/);
    expect(Math.abs(result.exceptions[0]!.count - BAD_USERS)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('turns a memory bomb for some users into an out-of-memory exception while all others complete', async () => {
    const result = await run(
      'memory bomb for some',
      `const n = tables.t[0].n; if (n >= ${USERS - BAD_USERS}) { const a = []; while (true) a.push(new Array(100000).fill(n)); } report_property("ok", "yes");`,
      roomy,
    );
    const ok = result.buckets.find((b) => b.label === 'ok');
    expect(Math.abs(ok!.count - (USERS - BAD_USERS))).toBeLessThanOrEqual(TOLERANCE);
    expect(result.exceptions).toHaveLength(1);
    expect(result.exceptions[0]!.error).toBe(
      'Out of memory: the task used more than 32 MB for this user',
    );
  });
});
