// Averaging buckets that differ by known accomplices gets a fresh draw per bucket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { countTable, FORMER_NOISE, openLab, PUBLISHED_GROUP, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

const COMPANIONS = PUBLISHED_GROUP;
const ACCOMPLICES = Number(process.env.ATTACK_ACCOMPLICES ?? 20);
/**
 * Bucket "acc<j>": the group, accomplices 1..j and the victim when the bit is 1. Every bucket
 * is a different user set, so each draws its own sticky noise, and the attacker knows each
 * expected count (10 + j) exactly.
 */
const TASK = `const r = tables.t[0];
if (r.victim === 0 || r.s === 1) {
  for (let j = 1; j <= ${ACCOMPLICES}; j++) if (r.a <= j) report_property("acc" + j, r.grp);
}`;

async function attack(run: (code: string) => Promise<AnonymizedResult>, lab: Lab) {
  const table = countTable(await run(TASK));
  const evidence = Array.from({ length: lab.victims }, (_, g) => {
    // Only published buckets: a suppressed one says nothing about its count.
    let excess = 0;
    let published = 0;
    for (let j = 1; j <= ACCOMPLICES; j++) {
      const count = table.get(`acc${j}`)?.get(String(g));
      if (count === undefined) continue;
      excess += count - (COMPANIONS + j);
      published++;
    }
    return published === 0 ? 0 : excess / published - 0.5;
  });
  return scoreAttack(guessesFromEvidence(evidence), lab.truth);
}

describe('accomplice-averaging attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await openLab({ companions: COMPANIONS, accomplices: ACCOMPLICES });
  });
  afterAll(() => lab.stop());

  // Sticky noise cannot stop this alone (kappa 1.0 without the budget): each bucket really is
  // another set of users. The participation budget lets the victim into about one fresh small
  // bucket, so there is nothing to average (docs/anonymization.md).
  it('fails: the participation budget keeps the victim out of all but one bucket', async () => {
    const score = await attack(lab.run, lab);
    console.log(describeScore(`accomplice averaging x${ACCOMPLICES}`, score));
    expect(score.kappa).toBeLessThan(KAPPA_BAR);
  });

  // Today's noise (sd 10) alone may hold it (printed: the trusted analyst's view); with the former
  // noise (sd 3) and no budget it succeeds, which shows the attack is real and the budget needed.
  it('succeeds against the former noise alone, so the budget is what stops it', async () => {
    const today = await attack(lab.runUnbudgeted, lab);
    console.log(describeScore('accomplice averaging, no participation budget', today));
    const score = await attack((code) => lab.runWith(FORMER_NOISE, code), lab);
    console.log(describeScore('accomplice averaging, former noise (sd 3), no budget', score));
    expect(score.kappa).toBeGreaterThan(KAPPA_BAR);
  });

  it('succeeds when counts are exact, so the attack is real', async () => {
    const score = await attack(lab.runWeakened, lab);
    console.log(describeScore('accomplice averaging, exact counts', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
