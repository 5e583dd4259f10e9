// Asking for one user set under hundreds of labels: each a fresh draw, and the budget pays for each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { countTable, openLab, PUBLISHED_GROUP, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

const COMPANIONS = PUBLISHED_GROUP;
const LABELS = Number(process.env.ATTACK_LABELS ?? 100);
/** The victim's group (victim included only when the bit is 1) under LABELS different labels. */
const TASK = `const r = tables.t[0]; if (r.victim === 0 || r.s === 1) { for (let i = 0; i < ${LABELS}; i++) report_property("g" + i, r.grp); }`;

async function attack(run: (code: string) => Promise<AnonymizedResult>, lab: Lab) {
  const table = countTable(await run(TASK));
  const evidence = Array.from({ length: lab.victims }, (_, g) => {
    // Only published labels: under the participation budget the group's users run out after a
    // few fresh buckets, and a suppressed label says nothing about the count.
    let sum = 0;
    let published = 0;
    for (let i = 0; i < LABELS; i++) {
      const count = table.get(`g${i}`)?.get(String(g));
      if (count === undefined) continue;
      sum += count;
      published++;
    }
    return published === 0 ? 0 : sum / published - (COMPANIONS + 0.5);
  });
  return scoreAttack(guessesFromEvidence(evidence), lab.truth);
}

describe('label-minting attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await openLab({ companions: COMPANIONS });
  });
  afterAll(() => lab.stop());

  // Every label is an independent draw of sd 10 (no noise is shared between buckets), so what
  // holds this attack is the budget: a user affords about ten fresh small buckets, worth one look
  // at sd 3.2 together.
  it('fails: the participation budget lets each group into about ten labels', async () => {
    const budgeted = await attack(lab.run, lab);
    console.log(describeScore(`label-minting x${LABELS}`, budgeted));
    expect(budgeted.kappa).toBeLessThan(KAPPA_BAR);
  });

  // Without the budget (a trusted analyst's view) averaging the labels leaves sd 10 / sqrt(LABELS).
  it('succeeds without the participation budget, so the budget is what stops it', async () => {
    const score = await attack(lab.runUnbudgeted, lab);
    console.log(describeScore('label-minting, no participation budget', score));
    expect(score.kappa).toBeGreaterThan(KAPPA_BAR);
  });

  it('succeeds when counts are exact, so the attack is real', async () => {
    const score = await attack(lab.runWeakened, lab);
    console.log(describeScore('label-minting, exact counts', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
