// Users whose every property is suppressed are counted once in the "*: *" bucket, with and without
// the participation budget (both paths keep each user's properties until the run is anonymized).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ANONYMIZER_SETTINGS, NOISELESS_SETTINGS } from '../../src/anonymizer/index.ts';
import { ParticipationBudget, TaskRunner } from '../../src/cloak/index.ts';
import { openSqliteDb } from '../../src/store/index.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

// 100 users share a city; 100 more each report a city nobody else has (100: far enough above the
// threshold, a noisy count of 43, that both 'Oslo' and '*' are published whatever their noise).
const COMMON = 100;
const ALONE = 100;
const CODE = 'report_property("city", tables.t[0].city);';

describe('the suppression bucket through a real run', () => {
  let inst: TestInstallation;
  let orgId: string;
  beforeAll(async () => {
    inst = await startTestInstallation();
    orgId = await inst.createOrg('Suppressed');
    const { data } = inst.platform.cloak;
    await data.createTable(orgId, { name: 't', columns: [{ name: 'city', type: 'text' }] });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < COMMON; u++) rows[`common${u}`] = { t: [{ city: 'Oslo' }] };
    for (let u = 0; u < ALONE; u++) rows[`alone${u}`] = { t: [{ city: `village${u}` }] };
    await data.insert(orgId, rows);
  });
  afterAll(() => inst.stop());

  const runner = (budget?: ParticipationBudget) =>
    new TaskRunner(inst.platform.cloak.data, {
      secret: new Uint8Array(32).fill(5),
      limits: { timeoutMs: 1000, memoryLimitMb: 64, maxPropertiesPerUser: 100 },
      runTimeoutSeconds: 60,
      // Exact counts without a budget; the budget needs noise (it charges 1 / (2 sd^2)).
      anonymizer: budget
        ? DEFAULT_ANONYMIZER_SETTINGS
        : { ...NOISELESS_SETTINGS, minRoundingStep: 1 },
      ...(budget ? { budget } : {}),
    });
  const spec = { prefetch: [{ table: 't' }], post_processing: { code: CODE } };

  it('counts the users with only suppressed properties, without a budget', async () => {
    const result = await runner().run(orgId, spec);
    expect(result.buckets).toEqual([
      { label: '*', value: '*', count: ALONE },
      { label: 'city', value: 'Oslo', count: COMMON },
    ]);
  });

  it('counts them the same way with a participation budget (noisy counts, rounded to 10)', async () => {
    const db = openSqliteDb(`${inst.dataDir}/budget-test.db`);
    try {
      const result = await runner(
        new ParticipationBudget(db, { rho: 10, secret: new Uint8Array(32).fill(5) }),
      ).run(orgId, spec);
      expect(result.buckets.map((b) => `${b.label}: ${b.value}`)).toEqual(['*: *', 'city: Oslo']);
      const [star, oslo] = result.buckets;
      // Noise of sd 10, at most 3 sd, and half a rounding step.
      expect(Math.abs(star!.count - ALONE)).toBeLessThanOrEqual(35);
      expect(Math.abs(oslo!.count - COMMON)).toBeLessThanOrEqual(35);
    } finally {
      await db.close();
    }
  });
});
