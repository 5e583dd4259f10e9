// A flood of logins with unknown e-mails from many addresses does not slow the results API, and gets 429s.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import { now, p99, sleep, startResultsReader } from '../support/latency-client.ts';

/** The probe of issue 16: 4 login loops, 20 source addresses (127.0.0.2-21), no client key. */
const LOOPS = 4;
const ADDRESSES = Array.from({ length: 20 }, (_, i) => `127.0.0.${i + 2}`);
/** The admin's address, known from an earlier login (so the limits let the admin through). */
const ADMIN_ADDRESS = '127.0.0.1';
const IDLE_MS = 4000;
const FLOOD_MS = 4000;
/**
 * An odd number, for a median; more than try-it's 3: what is left of a flood is a few password
 * checks, small next to what other work on a shared machine does to one window's p99.
 */
const ROUNDS = 5;
const WARM_UP_MS = 500;
/** After a flood, before the next idle window: requests queued behind it drain. */
const SETTLE_MS = 500;

/**
 * The attacker, in a worker thread: each loop sends its next login as soon as the last is
 * answered, over one keep-alive connection per source address (opened before measuring, so the
 * flood measures the login path, not TLS handshakes). Answers the status counts on 'stop'.
 */
const FLOOD = `
const { parentPort, workerData } = require('node:worker_threads');
const https = require('node:https');
const { origin, ca, addresses, loops } = workerData;
const lines = addresses.map((localAddress) => ({
  localAddress,
  agent: new https.Agent({ keepAlive: true, maxSockets: 1, ca, localAddress }),
}));
// A 429 without Retry-After counts as status -429.
function send(line, method, body) {
  return new Promise((resolve) => {
    const headers = body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {};
    const req = https.request(origin + (body ? '/auth/login' : '/auth/session'), { method, agent: line.agent, localAddress: line.localAddress, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 429 && !res.headers['retry-after'] ? -429 : res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}
let running = false;
let sent = 0;
let counts = {};
async function loop(k) {
  const mine = lines.filter((_, i) => i % loops === k);
  for (let i = 0; running; i++) {
    const body = JSON.stringify({ email: 'nobody' + sent++ + '@flood.test', password: 'guess-guess-guess' });
    const status = await send(mine[i % mine.length], 'POST', body);
    counts[status] = (counts[status] || 0) + 1;
  }
}
let loopsDone;
parentPort.on('message', async (message) => {
  if (message === 'warm') {
    await Promise.all(lines.map((line) => send(line, 'GET')));
    parentPort.postMessage('warm');
  } else if (message === 'start') {
    running = true;
    loopsDone = Promise.all(Array.from({ length: loops }, (_, k) => loop(k)));
  } else if (message === 'stop') {
    running = false;
    await loopsDone;
    parentPort.postMessage(counts);
    counts = {};
  } else {
    for (const line of lines) line.agent.destroy();
    parentPort.postMessage('closed');
  }
});
`;

function startFlood(inst: TestInstallation) {
  const worker = new Worker(FLOOD, {
    eval: true,
    workerData: { origin: inst.platform.webUrl, ca: inst.ca, addresses: ADDRESSES, loops: LOOPS },
  });
  const ask = <T>(message: string) =>
    new Promise<T>((resolve) => {
      worker.once('message', resolve);
      worker.postMessage(message);
    });
  return { worker, ask };
}

interface Round {
  idle: number[];
  flooded: number[];
  /** Status counts of the flood's logins. */
  flood: Record<string, number>;
}

describe('a flood of logins with unknown e-mails', () => {
  let inst: TestInstallation;
  let rounds: Round[];
  let statuses: number[];
  /** The admin's login from a known address during a flood. */
  let adminDuringFlood: { status: number; ms: number };

  beforeAll(async () => {
    inst = await startTestInstallation();
    const admin = inst.platform.initialAdmin!;
    const adminLogin = () =>
      inst.web('/auth/login', {
        body: { email: admin.email, password: admin.password },
        localAddress: ADMIN_ADDRESS,
      });
    expect((await adminLogin()).status).toBe(200);

    const org = await inst.createOrg('Reader Corp');
    const client = await startResultsReader(inst, org);
    const flood = startFlood(inst);
    // GET /auth/session answers 401 cheaply: it opens the flood's connections without a login.
    await flood.ask('warm');

    rounds = [];
    const windows: Array<{ idle: [number, number]; flooded: [number, number] }> = [];
    await sleep(WARM_UP_MS);
    let idleFrom = now();
    for (let round = 0; round < ROUNDS; round++) {
      await sleep(IDLE_MS);
      const start = now();
      flood.worker.postMessage('start');
      await sleep(FLOOD_MS);
      const end = now();
      const counts = await flood.ask<Record<string, number>>('stop');
      windows.push({ idle: [idleFrom, start - 100], flooded: [start, end] });
      rounds.push({ idle: [], flooded: [], flood: counts });
      await sleep(SETTLE_MS);
      idleFrom = now();
    }
    // Then the admin, from the known address, during one more flood (not measured: the admin's
    // own password check is load the flood did not cause).
    flood.worker.postMessage('start');
    await sleep(WARM_UP_MS);
    const before = now();
    const adminStatus = (await adminLogin()).status;
    adminDuringFlood = { status: adminStatus, ms: now() - before };
    await flood.ask('stop');
    await flood.ask('close');
    await flood.worker.terminate();
    const samples = await client.stop();

    statuses = samples.map((s) => s.status);
    const within = ([from, to]: [number, number]) =>
      samples.filter((s) => s.dueAt >= from && s.dueAt < to).map((s) => s.latencyMs);
    for (const [i, w] of windows.entries()) {
      const r = rounds[i]!;
      r.idle = within(w.idle);
      r.flooded = within(w.flooded);
      console.log(
        `round ${i + 1}: flood ${JSON.stringify(r.flood)}; results API p99 idle ${p99(r.idle).toFixed(1)} ms over ` +
          `${r.idle.length}, during the flood ${p99(r.flooded).toFixed(1)} ms over ` +
          `${r.flooded.length} (worst ${Math.max(...r.flooded).toFixed(0)} ms)`,
      );
    }
    console.log(
      `admin during a flood: ${adminDuringFlood.status} in ${adminDuringFlood.ms.toFixed(0)} ms`,
    );
  }, 240_000);
  afterAll(() => inst?.stop());

  it("keeps the results API's p99 within 2x of its p99 just before", () => {
    expect(statuses.every((s) => s === 200)).toBe(true);
    for (const r of rounds) {
      expect(r.idle.length).toBeGreaterThan(200);
      expect(r.flooded.length).toBeGreaterThan(200);
    }
    // The median round, as in try-it-latency.test.ts: a busy machine may stall any one window.
    const ratios = rounds.map((r) => p99(r.flooded) / p99(r.idle)).sort((a, b) => a - b);
    console.log(`p99 during / idle, by round: ${ratios.map((x) => x.toFixed(2)).join(', ')}`);
    expect(ratios[Math.floor(ratios.length / 2)]).toBeLessThan(2);
  });

  it('answers the flood with 429 and Retry-After rather than checking every password', () => {
    for (const r of rounds) {
      expect(r.flood['429']).toBeGreaterThan(0);
      expect(Object.keys(r.flood).every((status) => status === '401' || status === '429')).toBe(
        true,
      );
    }
  });

  it('lets the admin in from a known address during the flood', () => {
    expect(adminDuringFlood.status).toBe(200);
  });
});
