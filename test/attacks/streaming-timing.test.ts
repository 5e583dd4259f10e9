// Streaming timing channel: a streaming task that loops only for the victim, seen as API latency.
//
// What the analyst reads has two sources. The server's code: a pass that blocked the event loop,
// or host work timed by the victim's run, shows for the victim only. And the hardware: any
// process that keeps a core busy makes this machine's other core a little slower (a neighbour's
// loop, nowhere near the cloak, moved a 1 ms timer's longest gap from 3.1 to 3.7 ms at the median,
// `node bench/scheduling/wakeup-gaps.mjs nice 0 200`; the vCPUs share their host's cores). The
// threat model leaves hardware contention out (docs/anonymization.md, "Open weaknesses"), and on a
// machine the rest of the suite loads it alone moved this attack's best cut from 0.2 to 0.53.
// So every victim's window has a control window beside it, in the same run and under the same
// load: no streaming pass, but a neighbour process at the sandboxes' niceness loops for as long
// as a looping victim's pass takes longer (the same bits). The test asserts what the server's
// code adds over that neighbour, and the attack's kappa is printed beside the neighbour's.
//
// The analyst is a process of their own, as on their own machine: a request they send while the
// server is held up waits, whatever the test process's event loop is doing.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setPriority } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_PASSWORD } from '../support/installation.ts';
import { LAB_LIMIT_MS, openLab, type Lab } from './lab.ts';
import {
  areaUnderCurve,
  describeScore,
  guessesFromEvidence,
  KAPPA_BAR,
  scoreAttack,
} from './scoring.ts';
import { watchEventLoop } from '../support/event-loop-stall.ts';

const COMPANIONS = 2;
/** 100 in `npm test`, where each victim's window costs seconds on a loaded machine; 1,000 in attacks:full. */
const VICTIMS = Number(process.env.ATTACK_STREAMING_VICTIMS ?? 100);
/**
 * Longer than any pass here: about 150 ms, 250 ms with a looping victim, 450 ms when the suite's
 * load starves the victim's run and it runs again (src/sandbox/README.md, "Limits").
 */
const WINDOW_MS = 600;
/**
 * The analyst sends one request per this many ms (the next at once when an answer took longer):
 * a server held up for 15 ms or more holds up at least two of them. Back to back, the requests
 * kept a core busy for the whole file (119 s of CPU in a full run, a fifth of the suite's) and
 * slowed every other file; ATTACK_STREAMING_PERIOD_MS=0 sends them so.
 */
const PERIOD_MS = Number(process.env.ATTACK_STREAMING_PERIOD_MS ?? 5);
/** Busy work only for a victim whose bit is 1, cut off by the per-user time limit (LAB_LIMIT_MS). */
const TASK = `let x = 0;
for (const r of tables.t) if (r.victim === 1 && r.s === 1) for (let i = 0; i < 1e9; i++) x = (x + i) | 0;
report_property("g", x === -1 ? "never" : "all");`;

/**
 * A process outside the cloak, at the sandboxes' niceness, that loops for the given time: the
 * hardware's share of what the attack sees.
 */
function startNeighbour(): { loop(ms: number): Promise<void>; stop(): void } {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `process.stdin.on('data', (d) => {
        const end = Date.now() + Number(String(d).trim());
        while (Date.now() < end) {}
        process.stdout.write('done\\n');
      });`,
    ],
    { stdio: ['pipe', 'pipe', 'ignore'] },
  );
  setPriority(child.pid!, 19);
  return {
    async loop(ms) {
      const done = once(child.stdout!, 'data');
      child.stdin!.write(`${Math.round(ms)}\n`);
      await done;
    },
    stop: () => child.kill(),
  };
}

/**
 * The analyst: a process that, for each window asked of it, sends GET /api/tasks with their key
 * one after another (one per PERIOD_MS at most) and reports the slowest answer.
 */
async function startAnalyst(lab: Lab): Promise<{ window(): Promise<number>; stop(): void }> {
  const key = await lab.inst.issueKey(lab.orgId, 'web_api');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const https = require('node:https');
      let setup;
      const get = () => new Promise((resolve, reject) => {
        https.get(setup.url, { agent: setup.agent }, (res) => {
          res.resume();
          res.on('end', () => res.statusCode === 200 ? resolve() : reject(new Error('HTTP ' + res.statusCode)));
        }).on('error', reject);
      });
      process.on('message', async (m) => {
        if (m.url) {
          const agent = new https.Agent({ keepAlive: true, pfx: Buffer.from(m.pfx, 'base64'), passphrase: m.passphrase, ca: m.ca });
          setup = { ...m, agent };
          return process.send({ ready: true });
        }
        const started = performance.now();
        let slowest = 0;
        while (performance.now() - started < m.windowMs) {
          const sent = performance.now();
          await get();
          const answered = performance.now();
          slowest = Math.max(slowest, answered - sent);
          const rest = sent + m.periodMs - answered;
          if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
        }
        process.send({ slowest });
      });`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  // One exit listener for the whole file: one per window added 200 (Node warned past 10).
  const exited = once(child, 'exit').then(() => undefined);
  const reply = async () => {
    const message = await Promise.race([
      once(child, 'message').then(([m]) => m as { slowest?: number }),
      exited,
    ]);
    if (message === undefined) throw new Error('the analyst process exited');
    return message;
  };
  child.send({
    url: `${lab.inst.platform.webUrl}/api/tasks`,
    pfx: key.pfx!.toString('base64'),
    passphrase: KEY_PASSWORD,
    ca: lab.inst.ca,
  });
  await reply();
  return {
    async window() {
      child.send({ windowMs: WINDOW_MS, periodMs: PERIOD_MS });
      return (await reply()).slowest!;
    },
    stop: () => child.kill(),
  };
}

type Analyst = Awaited<ReturnType<typeof startAnalyst>>;

interface Observation {
  /** The slowest answer the analyst got to requests sent one after another during the pass. */
  latencyMs: number;
  /** The longest the event loop, and so every API request, waited during the pass. */
  stallMs: number;
  /** How long the pass took: the signal the sandbox's work carries, hidden from the analyst. */
  passMs: number;
}

/**
 * A new streaming task runs every user already stored, once. Each victim gets a task over their
 * group, and the analyst sends requests to the web API, one after another, while the pass runs.
 */
async function observe(lab: Lab, analyst: Analyst, g: number): Promise<Observation> {
  const { streaming } = lab.inst.platform.cloak;
  const taskKey = `victim-${g}`;
  await streaming.register(lab.orgId, taskKey, {
    code: TASK,
    prefetch: [{ table: 't', where: [{ $$grp: { $eq: g } }] }],
  });
  // What every request waited at worst.
  const loop = watchEventLoop();
  const started = performance.now();
  const pass = streaming.process().then(() => performance.now() - started);
  // The analyst cannot see when the pass starts or ends: they watch a fixed window around it.
  const latencyMs = await analyst.window();
  const passMs = await pass;
  const stallMs = await loop.stop();
  await streaming.register(lab.orgId, taskKey, null);
  return { latencyMs, stallMs, passMs };
}

/**
 * The control: the same window with no pass, while the neighbour loops for `loopMs` (0 when the
 * bit is not set), about when the victim's run would (a pass starts its users after about 100 ms).
 */
async function observeNeighbour(
  analyst: Analyst,
  neighbour: ReturnType<typeof startNeighbour>,
  loopMs: number,
): Promise<number> {
  const looped = new Promise((resolve) => setTimeout(resolve, 100)).then(() =>
    neighbour.loop(loopMs),
  );
  const latencyMs = await analyst.window();
  await looped;
  return latencyMs;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function score(lab: Lab, values: number[]) {
  const middle = median(values);
  return scoreAttack(guessesFromEvidence(values.map((v) => v - middle)), lab.truth);
}

describe('streaming timing attack', () => {
  let lab: Lab;
  const seen: Observation[] = [];
  /** The control's slowest answer per victim: the neighbour looped where the victim's bit is 1. */
  const neighbourLatency: number[] = [];
  const ofBit = (bit: 0 | 1) => seen.filter((_, g) => lab.truth[g] === bit);
  const stallsOf = (bit: 0 | 1) => ofBit(bit).map((o) => o.stallMs);
  const passesOf = (bit: 0 | 1) => ofBit(bit).map((o) => o.passMs);
  /** How much longer a looping victim's pass has taken so far (the medians), the limit at first. */
  const extraPassMs = () => {
    const [zeros, ones] = [passesOf(0), passesOf(1)];
    if (zeros.length === 0 || ones.length === 0) return LAB_LIMIT_MS;
    return Math.max(0, median(ones) - median(zeros));
  };
  beforeAll(
    async () => {
      lab = await openLab({ companions: COMPANIONS, victims: VICTIMS, timed: true });
      await lab.inst.platform.cloak.streaming.stop();
      const analyst = await startAnalyst(lab);
      const neighbour = startNeighbour();
      try {
        // Attack and control window by window, so that both see the same load. The neighbour
        // loops for as long as a looping victim's pass has taken longer so far (the loop to the
        // limit, and the new isolate that replaces the one the timeout retired), so that it
        // spends the CPU the victim's run spends.
        for (let g = 0; g < VICTIMS; g++) {
          seen.push(await observe(lab, analyst, g));
          const loopMs = lab.truth[g] === 1 ? extraPassMs() : 0;
          neighbourLatency.push(await observeNeighbour(analyst, neighbour, loopMs));
        }
      } finally {
        neighbour.stop();
        analyst.stop();
      }
    },
    VICTIMS * (2 * WINDOW_MS + 1000) + 60_000,
  );
  afterAll(() => lab.stop());

  /** Scores one observed quantity per victim (larger says 1) and logs it under `name`. */
  const scoreValues = (name: string, values: number[]) => {
    const s = score(lab, values);
    const auc = areaUnderCurve(values, lab.truth);
    console.log(`${describeScore(`streaming timing (${name})`, s)}; AUC ${auc.toFixed(3)}`);
    return { ...s, auc };
  };
  const scoreBy = (name: string, pick: (o: Observation) => number) =>
    scoreValues(name, seen.map(pick));

  it("fails: the API's answers take no longer while a victim's run loops than while a neighbour's process does", () => {
    const attack = scoreBy('slowest API answer', (o) => o.latencyMs);
    const neighbour = scoreValues('the same, a neighbour looping instead', neighbourLatency);
    // What the server's code adds over the hardware's share, as the chance that a looping
    // victim's window is the slower (AUC; 0.5 says nothing). At 100 victims a difference of
    // AUCs moves with an sd of about 0.08 from luck alone, so 0.2 is a 2.5 sd margin. Put in on
    // purpose, 15 ms of host work when a user's outcome is an error measured AUC 1.000 against
    // the neighbour's 0.550 (the event-loop check below missed it). The attack's own kappa is
    // printed for docs/anonymization.md (the bar is 0.5).
    console.log(
      `streaming timing: kappa ${attack.kappa.toFixed(3)} (bar ${KAPPA_BAR}), the neighbour's ` +
        `${neighbour.kappa.toFixed(3)}; AUC ${attack.auc.toFixed(3)} against ${neighbour.auc.toFixed(3)}`,
    );
    expect(attack.auc - neighbour.auc).toBeLessThan(0.2);
  });

  it("never holds the server up for a user's run (LAB_LIMIT_MS here)", () => {
    const longest = Math.max(...seen.map((o) => o.stallMs));
    scoreBy(`event-loop stall, longest ${longest.toFixed(0)} ms`, (o) => o.stallMs);
    // A pass that blocked the server would stall it for the per-user limit (or more) for every
    // looping victim, and not for the others. Compared between the two groups of the same run,
    // not as an absolute: a busy machine stalls every group now and then (a collection, a
    // neighbour), which says nothing about the victim.
    const gap = median(stallsOf(1)) - median(stallsOf(0));
    console.log(`event-loop stall: the median is ${gap.toFixed(0)} ms longer with the bit set`);
    expect(gap).toBeLessThan(LAB_LIMIT_MS / 2);
  });

  it('has a real signal to hide: the pass itself takes longer for the victim', () => {
    scoreBy('pass duration, not observable', (o) => o.passMs);
    // Measured against the same run's other passes, not as a kappa: on a machine the rest of the
    // suite keeps busy, the passes' spread hides part of the signal from a best cut, not from the
    // medians. A looping victim's user runs to the per-user limit (LAB_LIMIT_MS).
    const gap = median(passesOf(1)) - median(passesOf(0));
    console.log(`pass duration: the median pass is ${gap.toFixed(0)} ms longer with the bit set`);
    // A quarter of the limit: the loop adds the limit or more, but load spreads both groups'
    // passes (96 ms was seen under load with a 200 ms limit); without the loop the medians
    // differ by noise alone.
    expect(gap).toBeGreaterThan(LAB_LIMIT_MS / 4);
  });
});
