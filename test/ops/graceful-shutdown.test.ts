// SIGTERM drains: readyz turns 503, new runs are refused, runs that fit the deadline finish, the rest fail clearly, exit 0.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig, type ConfigInput } from '../../src/config/index.ts';
import { openPlatform } from '../../src/platform/index.ts';
import { request, type TestKey } from '../support/https-client.ts';
import { exited, startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { until } from '../support/until.ts';

/**
 * Each user spins until the sandbox's time limit stops it (an exception, counted like any): a
 * user takes at least sandbox.timeoutMs however fast the machine, so the long run's 400 users
 * outlast any deadline below 120 s, and the short run's 3 users are still at work for about a
 * second after they start, when the signal comes. On a machine too busy to give the sandbox its
 * CPU a spinning user takes up to three times the limit (src/sandbox/README.md, "Limits"): the
 * short run's and the background run's six users, one after the other in the one sandbox process
 * with the long run's between them, then need several seconds of the 15 s the drain allows (with
 * a 1 s limit, five times on a starved machine then, and a 12 s drain, the short run was once
 * answered 12.04 s after the signal; with 300 ms and five times, 9 s).
 */
const SPIN = 'while (true) {} report_property("never", 1);';
const LONG = SPIN;
const SHORT = SPIN;
const QUICK = 'report_property("seen", 1);';
const SETTINGS: ConfigInput = {
  sandbox: { timeoutMs: 300 },
  cloak: { sandboxProcesses: 1, maxRunsPerOrganisation: 5, deliveryFirstDelayMs: 50 },
  // The release schedule would hold answers until its release points: off, so that what the
  // test times is the drain alone.
  privacy: { releaseSchedule: false },
  shutdown: { drainSeconds: 15 },
};

interface Delivery {
  runId: string | undefined;
  body: { success?: boolean; error?: string; buckets?: unknown[] };
}

let dataDir: string;
let server: ServerProcess;
let runner: TestKey;
let webKey: TestKey;
let quickToken: string;
let quickTaskId: number;
const deliveries: Delivery[] = [];
let receiver: http.Server;

function spec(code: string, table: string) {
  return { prefetch: [{ table }], post_processing: { code } };
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-shutdown-'));
  const configFile = path.join(dataDir, '..', `${path.basename(dataDir)}.json`);
  writeFileSync(configFile, JSON.stringify(SETTINGS));
  // Set up as `opencloak` commands would, on the data directory, before the server starts.
  const platform = await openPlatform(buildConfig({ ...SETTINGS, dataDir }));
  try {
    const orgId = (await platform.air.organisations.create('Drain')).id;
    const key = async (type: 'task_runner' | 'web_api') => {
      const issued = await platform.keys.create(orgId, {
        type,
        description: type,
        password: 'pw-1234',
      });
      return { pfx: issued.pfx, passphrase: 'pw-1234' };
    };
    runner = await key('task_runner');
    webKey = await key('web_api');
    const rows = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`u${i}`, [{ x: i }]]));
    for (const [table, users] of [
      ['few', 3],
      ['many', 400],
    ] as const) {
      await platform.cloak.data.createTable(orgId, {
        name: table,
        columns: [{ name: 'x', type: 'integer' }],
      });
      const payload = Object.fromEntries(
        Object.entries(rows(users)).map(([user, r]) => [user, { [table]: r }]),
      );
      await platform.cloak.data.insert(orgId, payload);
    }
    const quick = await platform.tasks.create(orgId, {
      name: 'quick',
      type: 'batch',
      code: SHORT,
      prefetch: [{ table: 'few' }],
    });
    quickToken = quick.token;
    quickTaskId = quick.id;
  } finally {
    platform.close();
  }
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({
        runId: req.headers['x-opencloak-run-id'] as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  server = await startServerProcess(dataDir, { globalArgs: ['--config', configFile] });
}, 120_000);

afterAll(async () => {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  await new Promise<void>((r) => receiver?.close(() => r()));
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(`${dataDir}.json`, { force: true });
});

describe('graceful shutdown', () => {
  it('drains the runs that fit the deadline, cancels the rest as failed, and exits 0', async () => {
    const ca = path.join(dataDir, 'pki', 'ca.crt');
    const caPem = readFileSync(ca, 'utf8');
    const cloak = (p: string, options = {}) => request(`${server.cloakUrl}${p}`, caPem, options);
    const web = (p: string, options = {}) => request(`${server.webUrl}${p}`, caPem, options);
    const started = () => (server.output().match(/"msg":"run started"/g) ?? []).length;
    const { port } = receiver.address() as AddressInfo;
    const returnUrl = Buffer.from(`http://127.0.0.1:${port}/results`).toString('base64');

    const long = await cloak('/task/run', {
      key: runner,
      headers: { async_query: 'true' },
      body: { task_id: 'long', return_url: returnUrl, auth_token: 't', ...spec(LONG, 'many') },
    });
    expect(long.status, long.text).toBe(202);
    const longRunId = String(long.headers['x-opencloak-run-id']);
    const short = cloak('/task/run', {
      key: runner,
      body: { task_id: 'short', ...spec(SHORT, 'few') },
    });
    const background = await web(`/api/tasks/${quickToken}/run`, {
      key: webKey,
      body: { wait: false },
    });
    expect(background.status, background.text).toBe(202);
    await until(
      async () => started(),
      (n) => n >= 3,
    );

    const stopped = exited(server.child);
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    await until(
      async () => server.output(),
      (out) => out.includes('shutting down'),
    );

    // While it drains: not ready, no new runs, but still answering.
    const ready = await cloak('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json.error).toContain('shutting down');
    const refused = await cloak('/task/run', { key: runner, body: spec(QUICK, 'few') });
    expect(refused.status).toBe(503);
    expect(refused.json.error).toContain('starts no new ones');

    // The short run finished within the deadline and was answered in full.
    const answered = await short;
    console.log(`the short run was answered ${Date.now() - signalled} ms after SIGTERM`);
    expect(answered.status, answered.text).toBe(200);
    expect(answered.json.task_id).toBe('short');

    await stopped;
    expect(server.child.exitCode, server.output()).toBe(0);

    // The long one was cancelled at the deadline and delivered as failed, with its run id.
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.runId).toBe(longRunId);
    expect(deliveries[0]!.body.success).toBe(false);
    expect(deliveries[0]!.body.error).toContain('shut down before the task run finished');
    const lines = server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.runId === longRunId && l.msg === 'run failed')).toMatchObject({
      outcome: 'shutdown',
      code: 'TASK_RUN_SHUTDOWN',
    });
    expect(lines.find((l) => l.msg === 'runs drained')).toMatchObject({ cancelled: 1 });
    // The short run was still at work when the stop began, and finished during the drain.
    const shortRunId = String(answered.headers['x-opencloak-run-id']);
    const stopAt = lines.findIndex((l) => l.msg?.toString().startsWith('shutting down'));
    const shortEnd = lines.findIndex((l) => l.runId === shortRunId && l.msg === 'run finished');
    expect(stopAt).toBeGreaterThan(-1);
    expect(shortEnd).toBeGreaterThan(stopAt);

    // The web API's background run was published before the stores closed: nothing lost.
    const after = await openPlatform(buildConfig({ ...SETTINGS, dataDir }));
    try {
      expect(await after.air.results.count(quickTaskId)).toBe(1);
    } finally {
      await after.close();
    }
  }, 240_000);
});
