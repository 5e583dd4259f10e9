// A trusted run is not charged, so its counts get the finer uncharged noise; a charged run of the same task gets the budget's curve.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../config/index.ts';
import { openCloak, type Cloak } from './index.ts';
import { pinNoiseSecret } from './noise-secret-test-support.ts';

const GROUPS = 100;
const PER_GROUP = 200;
const TASK = { code: 'SELECT grp, count(DISTINCT user) FROM t GROUP BY grp', language: 'sql' };

/** The spread of published counts around the truth, rounding included. */
function spread(result: { buckets: Array<{ count: number }> }): number {
  const errors = result.buckets.map((b) => b.count - PER_GROUP);
  return Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length);
}

describe('the noise of an uncharged run', () => {
  let dir: string;
  let cloak: Cloak;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-uncharged-'));
    pinNoiseSecret(dir, 0x31);
    cloak = await openCloak(buildConfig({ dataDir: dir, privacy: { releaseSchedule: false } }));
    await cloak.data.createTable('org', { name: 't', columns: [{ name: 'grp', type: 'integer' }] });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < GROUPS * PER_GROUP; u++) rows[`u${u}`] = { t: [{ grp: u % GROUPS }] };
    await cloak.data.insert('org', rows);
  });
  afterAll(async () => {
    await cloak?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is sd 10 at 200 users for a trusted run, and 1.4 sqrt(200) = 19.8 for a charged one', async () => {
    const trusted = await cloak.runner.run('org', TASK, {}, 'trusted');
    const charged = await cloak.runner.run('org', TASK);
    expect(trusted.buckets).toHaveLength(GROUPS);
    expect(charged.buckets).toHaveLength(GROUPS);
    expect(trusted.budget).toBeUndefined();
    expect(charged.budget).toBeDefined();
    // 100 buckets each: the sample sd is within about 15% of the true one. With rounding to 10
    // (trusted) and 20 (charged): about 10.4 and 20.6.
    expect(spread(trusted)).toBeGreaterThan(7.5);
    expect(spread(trusted)).toBeLessThan(13.5);
    expect(spread(charged)).toBeGreaterThan(16);
    expect(spread(charged)).toBeLessThan(25);
  });
});
