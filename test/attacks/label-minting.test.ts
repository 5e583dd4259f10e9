// Asking for one user set under hundreds of labels cannot average away the user-set noise layer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { countTable, openLab, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

const COMPANIONS = 10;
const LABELS = Number(process.env.ATTACK_LABELS ?? 100);
/** The victim's group (victim included only when the bit is 1) under LABELS different labels. */
const TASK = `const r = tables.t[0]; if (r.victim === 0 || r.s === 1) { for (let i = 0; i < ${LABELS}; i++) report_property("g" + i, r.grp); }`;

async function attack(run: (code: string) => Promise<AnonymizedResult>, lab: Lab) {
  const table = countTable(await run(TASK));
  const evidence = Array.from({ length: lab.victims }, (_, g) => {
    let sum = 0;
    for (let i = 0; i < LABELS; i++) sum += table.get(`g${i}`)?.get(String(g)) ?? 0;
    return sum / LABELS - (COMPANIONS + 0.5);
  });
  return scoreAttack(guessesFromEvidence(evidence), lab.truth);
}

describe('label-minting attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await openLab({ companions: COMPANIONS });
  });
  afterAll(() => lab.stop());

  // KNOWN WEAKNESS (measured kappa 0.91 at 7% coverage): averaging over labels removes the
  // identity layer and the rounding dither, leaving count + one Gaussian user-set draw (sd 1.2),
  // whose tails separate 10 from 11 known users. \`it.fails\` keeps the tree green and turns red
  // once the anonymizer is fixed (see docs/anonymization.md, "Open weaknesses").
  it.fails('fails: the user-set layer survives averaging over labels', async () => {
    const score = await attack(lab.run, lab);
    console.log(describeScore(`label-minting x${LABELS}`, score));
    expect(score.kappa).toBeLessThan(KAPPA_BAR);
  });

  it('succeeds when counts are exact, so the attack is real', async () => {
    const score = await attack(lab.runWeakened, lab);
    console.log(describeScore('label-minting, exact counts', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
