// A run whose per-user state spills to disk publishes exactly what the in-memory run publishes, budget included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ANONYMIZER_SETTINGS, userKey } from '../../src/anonymizer/index.ts';
import { ParticipationBudget, TaskRunner } from '../../src/cloak/index.ts';
import { openSqliteDb } from '../../src/store/index.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import { priceOf } from '../../src/cloak/budget-pricing.ts';

const SECRET = new Uint8Array(32).fill(6);
const SMALL_COST = priceOf(10, DEFAULT_ANONYMIZER_SETTINGS);
/** Three and a half small fresh buckets per user: FIRST takes two, SECOND one more, then none. */
const RHO = 3.5 * SMALL_COST;
/** More than one spilled chunk (4,096 users) of the user log. */
const USERS = 6000;
// Big buckets (city), small ones (n, 8 or 9 users each), about 60 exceptions, and
// users with only a bucket of their own (in the suppression bucket '*').
const FIRST = `
const row = tables.t[0];
if (row.n % 100 === 0) throw new Error("unlucky");
if (row.n % 50 === 1) report_property("alone", row.city + "/" + row.n);
else {
  report_property("city", row.city);
  report_property("n", row.n);
}
`;
// Two more small fresh buckets: with RHO each user affords one of them and runs out at the other.
const SECOND = `
report_property("n7", Utils.quantize(tables.t[0].n, 7));
report_property("n5", Utils.quantize(tables.t[0].n, 5));
`;

describe('a run with its user logs spilled to disk', () => {
  let inst: TestInstallation;
  let orgId: string;
  beforeAll(async () => {
    inst = await startTestInstallation();
    orgId = await inst.createOrg('Spill');
    const { data } = inst.platform.cloak;
    await data.createTable(orgId, {
      name: 't',
      columns: [
        { name: 'city', type: 'text' },
        { name: 'n', type: 'integer' },
      ],
    });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`user${u}`] = { t: [{ city: `c${u % 40}`, n: u % 700 }] };
    await data.insert(orgId, rows);
  });
  afterAll(() => inst.stop());

  /** Runs FIRST twice (the rerun is free) and SECOND once under one fresh budget. */
  async function runAll(name: string, memoryBytes?: number) {
    const db = openSqliteDb(`${inst.dataDir}/${name}.db`);
    try {
      const budget = new ParticipationBudget(db, {
        rho: RHO,
        secret: SECRET,
        ...(memoryBytes === undefined ? {} : { memoryBytes }),
      });
      const runner = new TaskRunner(inst.platform.cloak.data, {
        secret: SECRET,
        limits: { timeoutMs: 1000, memoryLimitMb: 64, maxPropertiesPerUser: 100 },
        runTimeoutSeconds: 120,
        anonymizer: DEFAULT_ANONYMIZER_SETTINGS,
        budget,
      });
      const spec = (code: string) => ({ prefetch: [{ table: 't' }], post_processing: { code } });
      const results = [];
      for (const code of [FIRST, FIRST, SECOND]) results.push(await runner.run(orgId, spec(code)));
      const spent = await Promise.all(
        [0, 1, 699, 700, 5999].map((u) => budget.spent(orgId, userKey(SECRET, `user${u}`))),
      );
      return { results, spent };
    } finally {
      await db.close();
    }
  }

  it('publishes the same buckets, exceptions and suppression bucket, and charges the same', async () => {
    const inMemory = await runAll('in-memory');
    const spilled = await runAll('spilled', 1);
    // The runs are not trivial: big buckets published, small ones suppressed into '*', errors.
    const [first, rerun, second] = inMemory.results;
    expect(first!.buckets.filter((b) => b.label === 'city')).toHaveLength(40);
    expect(second!.buckets.filter((b) => b.label === 'n7').length).toBeGreaterThan(10);
    expect(first!.buckets.some((b) => b.label === '*')).toBe(true);
    expect(first!.exceptions).toHaveLength(1);
    // A rerun publishes the same counts; its budget notice is a fresh draw of the next run.
    const counts = (r: typeof first) => ({ buckets: r!.buckets, exceptions: r!.exceptions });
    expect(counts(rerun)).toEqual(counts(first));
    expect(rerun!.budget!.period_run).toBe(first!.budget!.period_run + 1);
    expect(counts(second)).not.toEqual(counts(first));
    // Three small fresh buckets each, then out: the fourth did not fit.
    expect(inMemory.spent.every((s) => s > RHO - SMALL_COST && s <= RHO)).toBe(true);
    expect(spilled).toEqual(inMemory);
  }, 120_000);
});
