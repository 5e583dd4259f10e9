// Whether a bucket of 2 or 3 known users plus the victim is published does not reveal the victim.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { countTable, openLab, WEAKENED, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

/** Label minting multiplies the attacker's looks at the threshold: each label is a fresh draw. */
const LABELS = 50;
/**
 * Two known users ("two") or three ("three"), plus the victim when the bit is 1, under `labels`
 * labels each. One label is the strongest form under the budget: minting more spreads each user's
 * budget over many buckets, so groups fall apart (which is why 50 labels measured 0.026).
 */
const task = (labels: number) => `const r = tables.t[0];
if (r.victim === 0 || r.s === 1) {
  for (let i = 0; i < ${labels}; i++) {
    if (r.a === 0) report_property("two" + i, r.grp);
    report_property("three" + i, r.grp);
  }
}`;

async function attack(
  run: (code: string) => Promise<AnonymizedResult>,
  lab: Lab,
  base: string,
  labels = LABELS,
) {
  const table = countTable(await run(task(labels)));
  const evidence = Array.from({ length: lab.victims }, (_, g) => {
    let published = 0;
    for (let i = 0; i < labels; i++) if (table.get(`${base}${i}`)?.has(String(g))) published++;
    // Any publication says the bit is 1; never published leans towards 0, weakly.
    return published > 0 ? published : -0.01;
  });
  return scoreAttack(guessesFromEvidence(evidence), lab.truth);
}

describe('suppression-signal attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    // Companions are the "two" group; accomplice 1 makes the "three" group.
    lab = await openLab({ companions: 2, accomplices: 1 });
  });
  afterAll(() => lab.stop());

  it('fails for a group of two plus the victim: 2 is below the floor, 3 almost never crosses', async () => {
    const score = await attack(lab.run, lab, 'two');
    console.log(describeScore('suppression-signal (two + victim)', score));
    expect(score.kappa).toBeLessThan(KAPPA_BAR);
  });

  // Before the threshold was seeded by the user set alone, this measured kappa 1.0 at 7%
  // coverage: each minted label was a fresh look at the threshold, and 4 crossed it far more
  // often than 3.
  it('fails for a group of three plus the victim, however many labels are minted', async () => {
    const score = await attack(lab.run, lab, 'three');
    console.log(describeScore('suppression-signal (three + victim)', score));
    expect(score.kappa).toBeLessThan(KAPPA_BAR);
  });

  // With the threshold on the true count (5.8, sd 1) one label was the strongest form: 4 users
  // were published 14 times as often as 3, kappa 1.000 at 2.5% coverage over 1,000 victims. The
  // threshold is now on the budget-priced noisy count, 4 sd above the floor.
  it('fails for a group of three plus the victim under one label', async () => {
    const score = await attack(lab.run, lab, 'three', 1);
    console.log(describeScore('suppression-signal (three + victim, one label)', score));
    expect(score.kappa).toBeLessThan(KAPPA_BAR);
  });

  it('succeeds when the threshold is exact and lowered to the group, so the attack is real', async () => {
    // No noise and a floor of 3: three known users plus the victim are published exactly when the bit is 1.
    const exactAt = { ...WEAKENED, absoluteFloor: 3 };
    const score = await attack((code) => lab.runWith(exactAt, code), lab, 'three');
    console.log(describeScore('suppression-signal, exact threshold', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
