// Two tasks that show the same label over a group, one with the victim only when the bit is 1:
// with noise seeded by what was asked and who is in it, an unchanged answer said the bit was 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { countTable, openLab, PUBLISHED_GROUP, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

const COMPANIONS = PUBLISHED_GROUP;
/** The group alone: the victim never reports. */
const WITHOUT = `const r = tables.t[0];
if (r.victim === 0) report_property("group", r.grp);`;
/** The same label and values, written otherwise; the victim reports when the bit is 1. */
const WITH_IF_BIT = `const r = tables.t[0];
if (r.victim === 0 || r.s === 1) report_property("group", r.grp);`;

/**
 * Each task `spellings` times, respelled (a comment): each spelling is another task, so with noise
 * layers that other tasks share (the user set's), averaging the spellings of each leaves that
 * shared layer, which cancels between the two exactly when the victim is not in the second.
 */
const SPELLINGS = Number(process.env.ATTACK_SPELLINGS ?? 5);

async function attack(
  run: (code: string) => Promise<AnonymizedResult>,
  lab: Lab,
  spellings = SPELLINGS,
) {
  const mean = async (code: string) => {
    const sums = new Map<string, number[]>();
    for (let i = 0; i < spellings; i++) {
      const counts = countTable(await run(`${code}\n// spelling ${i}`)).get('group');
      for (const [value, count] of counts ?? [])
        sums.set(value, [...(sums.get(value) ?? []), count]);
    }
    return new Map([...sums].map(([v, c]) => [v, c.reduce((a, b) => a + b, 0) / c.length]));
  };
  const without = await mean(WITHOUT);
  const withIfBit = await mean(WITH_IF_BIT);
  const evidence = Array.from({ length: lab.victims }, (_, g) => {
    const a = without.get(String(g));
    const b = withIfBit.get(String(g));
    if (a === undefined || b === undefined) return 0;
    // A difference near zero leans to "the same users", so the bit 0; a large one to 1.
    return Math.abs(b - a) - 3;
  });
  return scoreAttack(guessesFromEvidence(evidence), lab.truth);
}

describe('rerun-difference attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await openLab({ companions: COMPANIONS });
  });
  afterAll(() => lab.stop());

  it(
    'fails: another task asking the same bucket draws other noise',
    { timeout: 1_800_000 },
    async () => {
      const score = await attack(lab.run, lab);
      console.log(describeScore(`rerun difference x${SPELLINGS}`, score));
      expect(score.kappa).toBeLessThan(KAPPA_BAR);
    },
  );

  it('succeeds when counts are exact, so the attack is real', async () => {
    const score = await attack(lab.runWeakened, lab, 1);
    console.log(describeScore('rerun difference, exact counts', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
