// A task that fails only for the victim cannot report the victim through its exceptions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { openLab, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

/** Throws, with the victim's group in the message, only for a victim whose bit is 1. */
const TASK = `const r = tables.t[0]; if (r.victim === 1 && r.s === 1) throw new Error("hit " + r.grp); report_property("ok", "1");`;

async function attack(run: (code: string) => Promise<AnonymizedResult>, lab: Lab) {
  const result = await run(TASK);
  const hit = new Set(result.exceptions.map((e) => e.error));
  const evidence = Array.from({ length: lab.victims }, (_, g) =>
    [...hit].some((m) => m.endsWith(`hit ${g}`)) ? 1 : -0.01,
  );
  return scoreAttack(guessesFromEvidence(evidence), lab.truth);
}

describe('exception-channel attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await openLab({ companions: 2 });
  });
  afterAll(() => lab.stop());

  it('fails: one user exception is below the absolute floor and never published', async () => {
    const result = await lab.run(TASK);
    expect(result.exceptions).toEqual([]);
    const score = await attack(lab.run, lab);
    console.log(describeScore('exception channel', score));
    expect(score.kappa).toBeLessThan(KAPPA_BAR);
  });

  it('succeeds when exceptions of one user are published, so the attack is real', async () => {
    // A floor of 0 is below what validation allows, so the weakened runner cannot be built:
    // the attacker's view is simulated by reading the same task's exceptions with a floor of 2
    // and no noise (every count above it published) against a group where all companions throw
    // too (count 3 = bit 1, 2 = bit 0).
    const leaky = (await import('./lab.ts')).WEAKENED;
    const groupTask = TASK.replace('r.victim === 1 && r.s === 1', 'r.victim === 0 || r.s === 1');
    const result = await lab.runWith(leaky, groupTask);
    const evidence = Array.from({ length: lab.victims }, (_, g) =>
      result.exceptions.some((e) => e.error.endsWith(`hit ${g}`)) ? 1 : -1,
    );
    const score = scoreAttack(guessesFromEvidence(evidence), lab.truth);
    console.log(describeScore('exception channel, exact threshold', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
