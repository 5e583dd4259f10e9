// A tracker (Denning 1979) pads the victim's one-user query with a known set T to get past suppression.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { countTable, FORMER_NOISE, openLab, PUBLISHED_GROUP, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

const COMPANIONS = PUBLISHED_GROUP;
/** Accomplices per group, enough that every T_j (61 to 80 of them) is published too. */
const PADDING = 80;
/** Trackers per victim: T_j = the accomplices 1..PADDING - j + 1, so each is another set. */
const TRACKERS = Number(process.env.ATTACK_TRACKERS ?? 5);
/**
 * C = the victim when the bit is 1, a query of 0 or 1 users that is never published. With a
 * padding set T (accomplices) and its complement in the group (companions and the victim),
 * |C| = |C or T| + |C or not T| - |T| - |not T|, and all four are large enough to be published.
 */
const TASK = `const r = tables.t[0];
const inC = r.victim === 1 && r.s === 1;
for (let j = 1; j <= ${TRACKERS}; j++) {
  const inT = r.a > 0 && r.a <= ${PADDING} - j + 1;
  if (inC || inT) report_property("c_or_t" + j, r.grp);
  if (inC || !inT) report_property("c_or_not_t" + j, r.grp);
  if (inT) report_property("t" + j, r.grp);
  if (!inT) report_property("not_t" + j, r.grp);
}`;

async function attack(run: (code: string) => Promise<AnonymizedResult>, lab: Lab) {
  const table = countTable(await run(TASK));
  const count = (label: string, g: number) => table.get(label)?.get(String(g)) ?? 0;
  const evidence = Array.from({ length: lab.victims }, (_, g) => {
    let sum = 0;
    for (let j = 1; j <= TRACKERS; j++) {
      sum +=
        count(`c_or_t${j}`, g) +
        count(`c_or_not_t${j}`, g) -
        count(`t${j}`, g) -
        count(`not_t${j}`, g);
    }
    return sum / TRACKERS - 0.5;
  });
  return scoreAttack(guessesFromEvidence(evidence), lab.truth);
}

describe('tracker attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await openLab({ companions: COMPANIONS, accomplices: PADDING });
  });
  afterAll(() => lab.stop());

  it('fails: four noisy counts per tracker, and the budget lets the victim into about one', async () => {
    const score = await attack(lab.run, lab);
    console.log(describeScore(`tracker x${TRACKERS}`, score));
    expect(score.kappa).toBeLessThan(KAPPA_BAR);
  });

  // Today's noise alone (sd 10 per count, four counts per tracker) holds it at this size (printed:
  // the trusted analyst's view); with little noise (sd 1) and no budget it succeeds, so the attack
  // works through noise, not only against exact counts (no rounding: rounding to 5 alone adds sd 2.9
  // to each of the four counts).
  it('succeeds against little noise without the budget', async () => {
    const today = await attack(lab.runUnbudgeted, lab);
    console.log(describeScore(`tracker x${TRACKERS}, no participation budget`, today));
    const score = await attack(
      (code) => lab.runWith({ ...FORMER_NOISE, noiseSd: 1, minRoundingStep: 1 }, code),
      lab,
    );
    console.log(describeScore(`tracker x${TRACKERS}, noise sd 1, no budget`, score));
    expect(score.kappa).toBeGreaterThan(KAPPA_BAR);
  });

  it('succeeds when counts are exact, so the attack is real', async () => {
    const score = await attack(lab.runWeakened, lab);
    console.log(describeScore('tracker, exact counts', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
