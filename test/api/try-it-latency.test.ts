// A looping "try it" in one organisation does not slow another organisation's results API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import { analystSession, errorCode, loginToSite } from '../support/site-session.ts';
import type { TestResponse } from '../support/https-client.ts';
import { now, p99, sleep, startResultsReader } from '../support/latency-client.ts';

/**
 * The installation's defaults: each user may run 1 s and no user starts after 5 s. A blocking
 * try-it of 20 looping users held the server for over 20 s. What a try-it still does on the event
 * loop is start its sandbox process (spawn, tens of ms, more on a busy machine): once
 * per try-it, so it delays a few of the ~550 requests due during one, under the 99th percentile.
 */
const DEFAULT_TRY_TIMEOUT_SECONDS = 5;
const TEST_USERS = 20;
/**
 * About as long as a try-it, so that both kinds of window are as likely to meet load from
 * elsewhere: 6 to 8.5 s since the per-user limit became CPU time (the last looping users, starved
 * by the suite's load, run again with twice the wall time). With 4 s windows against 7 s try-its
 * the median round's ratio reached 2.11 in a clean-clone CI run.
 */
const IDLE_MS = 7000;
/** An odd number, for a median. */
const ROUNDS = 3;
const WARM_UP_MS = 500;
/** After a try-it, before the next idle window: requests queued behind a stall drain. */
const SETTLE_MS = 500;

interface Round {
  /** The results API's latencies in the idle window just before this round's try-it. */
  idle: number[];
  /** ... and while the try-it was running. */
  loaded: number[];
}

describe('try it with looping test users', () => {
  let inst: TestInstallation;
  let tried: TestResponse;
  let rounds: Round[];
  let statuses: number[];

  beforeAll(async () => {
    inst = await startTestInstallation();
    const first = inst.platform.initialAdmin!;
    const admin = await loginToSite(inst, first.email, first.password);
    const tryingOrg = await inst.createOrg('Loop Labs');
    const readingOrg = await inst.createOrg('Reader Corp');
    const looper = await analystSession(inst, admin, tryingOrg, 'loop@loop.test');
    await looper('/api/site/tables', {
      body: { name: 't', columns: [{ name: 'n', type: 'integer' }] },
    });
    // The other organisation's task with a published result, read over the web REST API.
    const client = await startResultsReader(inst, readingOrg);

    const tryIt = () =>
      looper('/api/site/tasks/try', {
        body: {
          code: 'while (true) {}',
          prefetch: [{ table: 't' }],
          users: Array.from({ length: TEST_USERS }, (_, i) => ({
            id: `u${i}`,
            tables: { t: [{ n: i }] },
          })),
        },
      });
    // Each round: an idle window, then a try-it. Idle starts once requests queued behind the
    // previous try-it have drained, and ends a little before the try-it (a request due just
    // before it still meets it).
    const windows: Array<{ idle: [number, number]; loaded: [number, number] }> = [];
    await sleep(WARM_UP_MS);
    let idleFrom = now();
    for (let round = 0; round < ROUNDS; round++) {
      await sleep(IDLE_MS);
      const start = now();
      tried = await tryIt();
      const end = now();
      windows.push({ idle: [idleFrom, start - 100], loaded: [start, end] });
      await sleep(SETTLE_MS);
      idleFrom = now();
    }
    const samples = await client.stop();

    statuses = samples.map((s) => s.status);
    const within = ([from, to]: [number, number]) =>
      samples.filter((s) => s.dueAt >= from && s.dueAt < to).map((s) => s.latencyMs);
    rounds = windows.map((w) => ({ idle: within(w.idle), loaded: within(w.loaded) }));
    for (const [i, r] of rounds.entries()) {
      const [a, b] = windows[i]!.loaded;
      console.log(
        `round ${i + 1}: try-it ${(b - a).toFixed(0)} ms (${tried.status}); results API p99 ` +
          `idle ${p99(r.idle).toFixed(1)} ms over ${r.idle.length}, during the try-it ` +
          `${p99(r.loaded).toFixed(1)} ms over ${r.loaded.length} (worst ${Math.max(...r.loaded).toFixed(0)} ms)`,
      );
    }
  }, 240_000);
  afterAll(() => inst?.stop());

  it("keeps the other organisation's results API p99 within 2x of its idle p99", () => {
    expect(statuses.every((s) => s === 200)).toBe(true);
    for (const r of rounds) {
      expect(r.idle.length).toBeGreaterThan(200);
      expect(r.loaded.length).toBeGreaterThan(200);
    }
    // The median round: other engineers' work on a shared machine can stall this process for
    // a moment in any window, idle or not; a try-it that blocks the server stalls every round.
    const ratios = rounds.map((r) => p99(r.loaded) / p99(r.idle)).sort((a, b) => a - b);
    console.log(`p99 during / idle, by round: ${ratios.map((x) => x.toFixed(2)).join(', ')}`);
    expect(ratios[Math.floor(ratios.length / 2)]).toBeLessThan(2);
  });

  it('stops the try-it at cloak.tryTimeoutSeconds with a catalogued error', () => {
    expect(tried.status).toBe(422);
    expect(errorCode(tried)).toBe('TRY_TASK_TIMEOUT');
    expect(tried.json.error).toMatch(
      `after ${DEFAULT_TRY_TIMEOUT_SECONDS} seconds (cloak.tryTimeoutSeconds), with `,
    );
    expect(tried.json.error).toMatch(`of ${TEST_USERS} test users run`);
  });
});
