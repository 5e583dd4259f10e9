// A results-API client in a worker thread that sends on a fixed schedule and records each request's latency.
import { Worker } from 'node:worker_threads';
import { KEY_PASSWORD, type TestInstallation } from './installation.ts';

/** The client sends a request this often whatever happened to the previous ones (open loop). */
const INTERVAL_MS = 10;
/** Connections the client keeps open (keep-alive); a request waits when all are busy. */
const SOCKETS = 4;

export interface Sample {
  /** When the request was due (ms since the epoch): latency counts from here, not from sending. */
  dueAt: number;
  latencyMs: number;
  status: number;
}

/**
 * The analyst of the other organisation, in a worker thread: its timers and sockets keep going
 * even while the server's (this thread's) event loop is blocked, so a stall shows as the latency
 * of every request due during it, not as one slow request among few.
 */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const https = require('node:https');
const { url, pfx, passphrase, ca, intervalMs, sockets } = workerData;
const agent = new https.Agent({ keepAlive: true, maxSockets: sockets, pfx, passphrase, ca });
const now = () => performance.timeOrigin + performance.now();
const samples = [];
let pending = 0;
let stopping = false;
function get(dueAt, record) {
  pending++;
  const done = (status) => {
    if (record) samples.push({ dueAt, latencyMs: now() - dueAt, status });
    if (--pending === 0 && stopping) finish();
  };
  const req = https.get(url, { agent }, (res) => {
    res.resume();
    res.on('end', () => done(res.statusCode));
  });
  req.on('error', () => done(0));
}
// Every socket the agent may use is opened (TLS handshake with the client certificate) before
// measuring, so that a burst of requests later queues on them instead of costing handshakes.
for (let i = 0; i < sockets; i++) get(now(), false);
const start = now() + 200;
let next = 0;
const timer = setInterval(() => {
  const t = now();
  // Every request that fell due since the last tick, each with its own due time.
  while (start + next * intervalMs <= t) get(start + next++ * intervalMs, true);
}, 1);
function finish() {
  agent.destroy();
  parentPort.postMessage(samples);
}
parentPort.on('message', () => {
  clearInterval(timer);
  stopping = true;
  if (pending === 0) finish();
});
`;

/** Starts requesting `url` with the key in `pfx`; `stop()` ends it and returns every sample. */
export function startLatencyClient(inst: TestInstallation, url: string, pfx: Buffer) {
  const worker = new Worker(CLIENT, {
    eval: true,
    workerData: {
      url,
      pfx,
      passphrase: KEY_PASSWORD,
      ca: inst.ca,
      intervalMs: INTERVAL_MS,
      sockets: SOCKETS,
    },
  });
  return {
    async stop(): Promise<Sample[]> {
      const answer = new Promise<Sample[]>((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      const result = await answer;
      await worker.terminate();
      return result;
    },
  };
}

/**
 * An analyst of `orgId` polling the seed's results API for a task with one published result: the
 * reader whose latency the load tests watch.
 */
export async function startResultsReader(inst: TestInstallation, orgId: string) {
  const task = await inst.platform.air.tasks.create(orgId, {
    name: 'r',
    type: 'batch',
    code: '',
    prefetch: [],
  });
  await inst.platform.air.results.publish(
    task.id,
    1,
    { buckets: [{ label: 'g', value: '1', count: 10 }], exceptions: [] },
    Date.now(),
  );
  const key = await inst.issueKey(orgId, 'web_api');
  return startLatencyClient(inst, `${inst.platform.webUrl}/api/task_results/${task.id}`, key.pfx!);
}

export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest-rank 99th percentile. */
export function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)]!;
}
