// Many random-subset counts reconstruct the victims' bits by least squares (Dinur-Nissim).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { countTable, FORMER_NOISE, openLab, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';
import { IN_SUBSET, leastSquares, subsetRows } from './subsets.ts';

/** Subset queries per victim: the system is over-determined four times. */
const QUERIES_PER_VICTIM = 4;
const task = (queries: number) => `const r = tables.t[0]; const inSubset = ${IN_SUBSET};
if (r.victim === 1 && r.s === 1) {
  for (let j = 0; j < ${queries}; j++) if (inSubset(r.grp, j)) report_property("r", j);
}`;

async function attack(run: (code: string) => Promise<AnonymizedResult>, lab: Lab) {
  const queries = QUERIES_PER_VICTIM * lab.victims;
  const counts = countTable(await run(task(queries))).get('r') ?? new Map<string, number>();
  const rows = subsetRows(queries, lab.victims);
  const y = rows.map((_, j) => counts.get(String(j)) ?? 0);
  const bits = leastSquares(rows, y, lab.victims);
  return scoreAttack(guessesFromEvidence(bits.map((b) => b - 0.5)), lab.truth);
}

describe('reconstruction attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await openLab({ companions: 0 });
  });
  afterAll(() => lab.stop());

  // Every subset is a distinct user set with its own noise of sd 10, below the sqrt(n) that Dinur
  // and Nissim show reconstruction needs at 1,000 victims, so without the budget enough subsets
  // would recover the bits. The participation budget lets each victim into about ten fresh small
  // buckets, so the system has about ten noisy equations per victim (docs/anonymization.md).
  it('fails: the participation budget leaves too few equations per victim', async () => {
    const score = await attack(lab.run, lab);
    console.log(describeScore('reconstruction', score));
    expect(score.kappa).toBeLessThan(KAPPA_BAR);
  });

  // Today's noise (sd 10) alone may hold it (printed: the trusted analyst's view); with the former
  // noise (sd 3) and no budget it succeeds, which shows the attack is real and the budget needed.
  it('succeeds against the former noise alone, so the budget is what stops it', async () => {
    const today = await attack(lab.runUnbudgeted, lab);
    console.log(describeScore('reconstruction, no participation budget', today));
    const score = await attack((code) => lab.runWith(FORMER_NOISE, code), lab);
    console.log(describeScore('reconstruction, former noise (sd 3), no budget', score));
    expect(score.kappa).toBeGreaterThan(KAPPA_BAR);
  });

  it('succeeds when counts are exact, so the attack is real', async () => {
    const score = await attack(lab.runWeakened, lab);
    console.log(describeScore('reconstruction, exact counts', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
