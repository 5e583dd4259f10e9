// Timing channel: a task that loops only for the victim, timed by the analyst over synchronous runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { openLab, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

/** Small groups keep the tables small, and so the release slots short: runs of about 0.5 s. */
const COMPANIONS = 2;
/**
 * Victims timed: one synchronous run each, a filtered prefetch keeps it to one group. 100 in
 * `npm test`, where each run waits seconds for its release point on a loaded CI machine (200
 * took 540 s there); `npm run attacks:full` times 300, above the brief's 200.
 */
const TIMED = Number(process.env.ATTACK_TIMED_VICTIMS ?? 100);
/**
 * The control, which only shows that the signal is there to hide (kappa 1.0 over 100 victims),
 * times fewer: 40 still give at least 20 guesses.
 */
const CONTROL = Math.min(TIMED, 40);
/**
 * Times each of the control's victims, keeping the shortest: what an attacker does against
 * noise. Once, beside a looping benchmark, a single timing each measured kappa 0.37 (runs of
 * about 590 ms, against the 200 ms a looping victim added with the lab's limit then).
 */
const CONTROL_REPEATS = 3;
/** 10 s a run: a release slot doubles with each epoch, and a loaded machine mispredicts more. */
const TIMEOUT_MS = TIMED * 10_000 + 60_000;
/** Busy work only for a victim whose bit is 1, cut off by the per-user time limit (LAB_LIMIT_MS). */
const TASK = `const r = tables.t[0];
let x = 0;
if (r.victim === 1 && r.s === 1) for (let i = 0; i < 100000000; i++) x = (x + i) | 0;
report_property("g", x === -1 ? "never" : "all");`;

/** A victim's work whatever their bit: warms the schedule up to the load of a looping victim. */
const WARM_UP_TASK = `const r = tables.t[0];
let x = 0;
if (r.victim === 1) for (let i = 0; i < 100000000; i++) x = (x + i) | 0;
report_property("g", x === -1 ? "never" : "all");`;

const spec = (g: number, code = TASK) => ({
  prefetch: [{ table: 't', where: [{ $$grp: { $eq: g } }] }],
  post_processing: { code },
});

/** Each victim's run time (the shortest of `repeats`) minus the median: a long run says 1. */
async function attack(lab: Lab, time: (g: number) => Promise<void>, victims = TIMED, repeats = 1) {
  const durations: number[] = [];
  for (let g = 0; g < victims; g++) {
    let shortest = Infinity;
    for (let r = 0; r < repeats; r++) {
      const started = process.hrtime.bigint();
      await time(g);
      shortest = Math.min(shortest, Number(process.hrtime.bigint() - started) / 1e6);
    }
    durations.push(shortest);
  }
  const sorted = [...durations].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const evidence = durations.map((d) => d - median);
  const truth = lab.truth.slice(0, victims);
  return { score: scoreAttack(guessesFromEvidence(evidence), truth), median, durations, truth };
}

/**
 * The evidence behind the score, printed with it: each bit's quartiles, and the longest runs with
 * their bit and their place in the sequence (a cluster in time says load, not data).
 */
function evidenceOf(durations: readonly number[], truth: readonly (0 | 1)[]): string {
  const quartiles = (bit: 0 | 1) => {
    const d = durations.filter((_, i) => truth[i] === bit).sort((a, b) => a - b);
    return [0.25, 0.5, 0.75, 1].map((q) =>
      d[Math.min(d.length - 1, Math.floor(q * d.length))]!.toFixed(1),
    );
  };
  const longest = durations
    .map((d, i) => ({ d, i }))
    .sort((a, b) => b.d - a.d)
    .slice(0, 30)
    .map(({ d, i }) => `${d.toFixed(1)}:${truth[i]}@${i}`);
  return `bit 0 quartiles ${quartiles(0).join('/')} ms, bit 1 ${quartiles(1).join('/')} ms; longest (ms:bit@run) ${longest.join(' ')}`;
}

describe('timing-channel attack', () => {
  let lab: Lab;
  let key: TestKey;
  beforeAll(async () => {
    lab = await openLab({ companions: COMPANIONS, victims: TIMED, timed: true });
    key = await lab.inst.issueKey(lab.orgId, 'task_runner');
  });
  afterAll(() => lab.stop());

  it(
    'fails: a synchronous POST /task/run is answered at a release point, not when it ends',
    { timeout: TIMEOUT_MS },
    async () => {
      // First the attacker lets the epoch settle: runs that loop for the victim whatever the bit,
      // until the epoch has not risen for four runs. Otherwise a rise in the middle of the attack
      // (a loaded machine mispredicts) splits the runs in time into a fast and a slow lot, and
      // the best cut scores that split against the lab's fixed truth: 0.31 to 0.54 at the 27 runs
      // before one rise, three times, which said in part which victims came first.
      const release = lab.inst.platform.cloak.release!;
      let steady = 0;
      for (let run = 0; run < 20 && steady < 4; run++) {
        const before = await release.epochOf(lab.orgId);
        const answer = await lab.inst.cloak('/task/run', { key, body: spec(0, WARM_UP_TASK) });
        expect(answer.status).toBe(200);
        steady = (await release.epochOf(lab.orgId)) === before ? steady + 1 : 0;
      }
      const warmEpoch = await release.epochOf(lab.orgId);
      const { score, median, durations, truth } = await attack(lab, async (g) => {
        const answer = await lab.inst.cloak('/task/run', { key, body: spec(g) });
        expect(answer.status).toBe(200);
      });
      const epoch = await release.epochOf(lab.orgId);
      console.log(
        describeScore(
          `timing channel (median run ${median.toFixed(1)} ms, epoch ${warmEpoch} after the warm-up, ${epoch} at the end)`,
          score,
        ),
      );
      console.log(evidenceOf(durations, truth));
      expect(score.kappa).toBeLessThan(KAPPA_BAR);
    },
  );

  it(
    'succeeds without the release schedule (the attack is real)',
    { timeout: TIMEOUT_MS },
    async () => {
      const { score, median } = await attack(
        lab,
        async (g) => {
          await lab.runWhere(TASK, spec(g).prefetch[0]!.where);
        },
        CONTROL,
        CONTROL_REPEATS,
      );
      console.log(
        describeScore(`timing channel, no schedule (median ${median.toFixed(1)} ms)`, score),
      );
      expect(score.kappa).toBeGreaterThanOrEqual(KAPPA_BAR);
    },
  );
});
