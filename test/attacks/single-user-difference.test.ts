// Comparing a group with and without the victim does not reveal the victim's bit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { countTable, openLab, PUBLISHED_GROUP, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

const COMPANIONS = PUBLISHED_GROUP;
/**
 * "with": the group, the victim included when the bit is 1; "without": the group, the victim
 * always excluded. Their difference is the bit, if the noise of the two user sets cancelled.
 */
const TASK = `const r = tables.t[0];
if (r.victim === 0 || r.s === 1) report_property("with", r.grp);
if (r.victim === 0) report_property("without", r.grp);`;

async function attack(run: (code: string) => Promise<AnonymizedResult>, lab: Lab) {
  const table = countTable(await run(TASK));
  const evidence = Array.from({ length: lab.victims }, (_, g) => {
    const withVictim = table.get('with')?.get(String(g)) ?? 0;
    const without = table.get('without')?.get(String(g)) ?? 0;
    return withVictim - without - 0.5;
  });
  return scoreAttack(guessesFromEvidence(evidence), lab.truth);
}

describe('single-user difference attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await openLab({ companions: COMPANIONS });
  });
  afterAll(() => lab.stop());

  it('fails: adding or removing one user draws fresh noise', async () => {
    const score = await attack(lab.run, lab);
    console.log(describeScore('single-user difference', score));
    expect(score.kappa).toBeLessThan(KAPPA_BAR);
  });

  it('succeeds when counts are exact, so the attack is real', async () => {
    const score = await attack(lab.runWeakened, lab);
    console.log(describeScore('single-user difference, exact counts', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
