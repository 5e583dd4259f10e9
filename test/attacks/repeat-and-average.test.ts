// Repeating the same task and averaging its answers learns nothing: the noise is sticky.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { countTable, openLab, PUBLISHED_GROUP, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

const COMPANIONS = PUBLISHED_GROUP;
/** 1,000 in the benchmark configuration (ATTACK_REPEATS); a few suffice to show stickiness in CI. */
const REPEATS = Number(process.env.ATTACK_REPEATS ?? 4);
/** Each victim's group, with the victim only when the secret bit is 1: a count of 60 or 61. */
const TASK = `const r = tables.t[0]; if (r.victim === 0 || r.s === 1) report_property("g", r.grp);`;

async function attack(run: (code: string) => Promise<AnonymizedResult>, lab: Lab, repeats: number) {
  const sums = new Array<number>(lab.victims).fill(0);
  for (let r = 0; r < repeats; r++) {
    const groups = countTable(await run(TASK)).get('g') ?? new Map<string, number>();
    for (let g = 0; g < lab.victims; g++) sums[g]! += groups.get(String(g)) ?? 0;
  }
  const evidence = sums.map((sum) => sum / repeats - (COMPANIONS + 0.5));
  return scoreAttack(guessesFromEvidence(evidence), lab.truth);
}

describe('repeat-and-average attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await openLab({ companions: COMPANIONS });
  });
  afterAll(() => lab.stop());

  it('gains nothing over asking once: every repeat returns the same answer', async () => {
    const once = await attack(lab.run, lab, 1);
    const repeated = await attack(lab.run, lab, REPEATS);
    console.log(describeScore(`repeat-and-average x${REPEATS}`, repeated));
    expect(repeated).toEqual(once);
  });

  // One look at Gaussian noise of sd 10, rounded to 10.
  it('fails against the sticky anonymizer', async () => {
    const score = await attack(lab.run, lab, REPEATS);
    console.log(describeScore(`repeat-and-average x${REPEATS}`, score));
    expect(score.kappa).toBeLessThan(KAPPA_BAR);
  });

  it('succeeds when counts are exact, so the attack is real', async () => {
    const score = await attack(lab.runWeakened, lab, 1);
    console.log(describeScore('repeat-and-average, exact counts', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
