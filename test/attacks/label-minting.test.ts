// Asking for one user set under hundreds of labels cannot average away the user-set noise layer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { countTable, FORMER_NOISE, openLab, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

const COMPANIONS = 10;
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

  // Without the participation budget averaging over labels removes the identity layer and the
  // rounding dither, leaving count + one user-set draw (sd 2.1). With it, each user joins about one
  // fresh small bucket per organisation, so the attacker sees one label per group: no better than
  // asking once (docs/anonymization.md).
  it('fails: the participation budget publishes about one label per group', async () => {
    const budgeted = await attack(lab.run, lab);
    console.log(describeScore(`label-minting x${LABELS}`, budgeted));
    expect(budgeted.kappa).toBeLessThan(KAPPA_BAR);
  });

  // Relabelling averages only the identity layer: whatever the number of labels, the user-set
  // layer (sd 7.07 of today's 10) stays, so today's noise holds this attack even without the
  // budget (measured and printed below, the trusted analyst's view). With the former sd 3 (user-set
  // layer 2.12) and no budget it did clearly better: 1,000 victims and 500 labels measured 0.57.
  it('does clearly better with the former noise than with today’s, so the user-set layer is what holds it', async () => {
    const today = await attack(lab.runUnbudgeted, lab);
    console.log(describeScore('label-minting, no participation budget', today));
    const former = await attack((code) => lab.runWith(FORMER_NOISE, code), lab);
    console.log(describeScore('label-minting, former noise (sd 3), no budget', former));
    expect(former.kappa).toBeGreaterThan(today.kappa + 0.15);
  });

  it('succeeds when counts are exact, so the attack is real', async () => {
    const score = await attack(lab.runWeakened, lab);
    console.log(describeScore('label-minting, exact counts', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
