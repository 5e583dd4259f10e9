// Streaming timing channel: a streaming task that loops only for the victim, seen as API latency.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLab, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

const COMPANIONS = 2;
const VICTIMS = Number(process.env.ATTACK_STREAMING_VICTIMS ?? 200);
/** Busy work only for a victim whose bit is 1, cut off by the per-user time limit (200 ms here). */
const TASK = `let x = 0;
for (const r of tables.t) if (r.victim === 1 && r.s === 1) for (let i = 0; i < 1e9; i++) x = (x + i) | 0;
report_property("g", x === -1 ? "never" : "all");`;

interface Observation {
  /** The longest the event loop, and so every API request, waited during the pass. */
  stallMs: number;
  /** How long the pass took: the signal the sandbox's work carries, hidden from the analyst. */
  passMs: number;
}

/**
 * A new streaming task runs every user already stored, once. Each victim gets a task over their
 * group; the engine's pass runs in this process, beside the API, so an event-loop stall is what
 * any request the analyst sends meanwhile would wait.
 */
async function observe(lab: Lab, g: number): Promise<Observation> {
  const { streaming } = lab.inst.platform.cloak;
  const taskKey = `victim-${g}`;
  streaming.register(lab.orgId, taskKey, {
    code: TASK,
    prefetch: [{ table: 't', where: [{ $$grp: { $eq: g } }] }],
  });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  await streaming.process();
  const passMs = performance.now() - started;
  delay.disable();
  streaming.register(lab.orgId, taskKey, null);
  return { stallMs: delay.max / 1e6, passMs };
}

function score(lab: Lab, values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return scoreAttack(guessesFromEvidence(values.map((v) => v - median)), lab.truth);
}

describe('streaming timing attack', () => {
  let lab: Lab;
  const seen: Observation[] = [];
  beforeAll(async () => {
    lab = await openLab({ companions: COMPANIONS, victims: VICTIMS });
    await lab.inst.platform.cloak.streaming.stop();
    for (let g = 0; g < VICTIMS; g++) seen.push(await observe(lab, g));
  }, 600_000);
  afterAll(() => lab.stop());

  it("fails: a user's run never holds up the API", () => {
    const s = score(
      lab,
      seen.map((o) => o.stallMs),
    );
    console.log(describeScore('streaming timing (event-loop stall)', s));
    expect(s.kappa).toBeLessThan(KAPPA_BAR);
  });

  it('has a real signal to hide: the pass itself takes longer for the victim', () => {
    const s = score(
      lab,
      seen.map((o) => o.passMs),
    );
    console.log(describeScore('streaming timing (pass duration, not observable)', s));
    expect(s.kappa).toBeGreaterThanOrEqual(KAPPA_BAR);
  });
});
