// Timing channel: a task that loops only for the victim, timed by the analyst over a synchronous run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLab, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

const COMPANIONS = 10;
/** Victims timed: one synchronous run each (a filtered prefetch keeps a run to one group). */
const TIMED = Number(process.env.ATTACK_TIMED_VICTIMS ?? 60);
/** Busy work only for a victim whose bit is 1, cut off by the per-user time limit (200 ms here). */
const TASK = `const r = tables.t[0];
let x = 0;
if (r.victim === 1 && r.s === 1) for (let i = 0; i < 100000000; i++) x = (x + i) | 0;
report_property("g", x === -1 ? "never" : "all");`;

async function attack(lab: Lab) {
  const durations: number[] = [];
  for (let g = 0; g < TIMED; g++) {
    const started = process.hrtime.bigint();
    await lab.runWhere(TASK, [{ $$grp: { $eq: g } }]);
    durations.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const sorted = [...durations].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return {
    score: scoreAttack(
      guessesFromEvidence(durations.map((d) => d - median)),
      lab.truth.slice(0, TIMED),
    ),
    median,
  };
}

describe('timing-channel attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await openLab({ companions: COMPANIONS, victims: TIMED });
  });
  afterAll(() => lab.stop());

  // KNOWN WEAKNESS (measured kappa 0.81 at 53% coverage over 60 victims, ~200 ms runs): a
  // synchronous run's duration depends on one user's data, up to the per-user time limit, and
  // nothing pads or blurs it yet. Red once a defence is in place; see docs/anonymization.md,
  // "Open weaknesses". ATTACK_TIMED_VICTIMS=300 for the full size (one run of ~0.2 s each).
  it.fails(
    'fails: a run does not take measurably longer for one user',
    { timeout: 180_000 },
    async () => {
      const { score, median } = await attack(lab);
      console.log(describeScore(`timing channel (median run ${median.toFixed(1)} ms)`, score));
      expect(score.kappa).toBeLessThan(KAPPA_BAR);
    },
  );
});
