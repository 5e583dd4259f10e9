// /healthz and /readyz answer without a key, /metrics counts a run, and log lines carry the run's id.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/index.ts';
import { startPlatform, type RunningPlatform } from '../../src/platform/index.ts';
import { request, type TestKey } from '../support/https-client.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let platform: RunningPlatform;
let dataDir: string;
let runner: TestKey;
const lines: Array<Record<string, unknown>> = [];
const cloak = (p: string, options = {}) =>
  request(`${platform.cloakUrl}${p}`, platform.pki.ca.certPem, options);
const web = (p: string, options = {}) =>
  request(`${platform.webUrl}${p}`, platform.pki.ca.certPem, options);

/** The value of one series in Prometheus's text format (0 when absent). */
async function sample(series: string): Promise<number> {
  const text = await fetch(platform.metricsUrl!).then((r) => r.text());
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const task = {
  prefetch: [{ table: 'visits' }],
  post_processing: { code: 'report_property("page", tables.visits[0].page);' },
};

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-ops-'));
  const config = buildConfig({
    dataDir,
    web: { port: 0 },
    cloak: { port: 0 },
    metrics: { enabled: true, port: 0 },
  });
  platform = await startPlatform(config, {
    logger: {
      level: 'info',
      access: 'off',
      stream: { write: (line: string) => void lines.push(JSON.parse(line)) },
    },
  });
  const orgId = (await platform.air.organisations.create('Ops')).id;
  const issued = await platform.keys.create(orgId, {
    type: 'task_runner',
    description: 'ops test',
    password: 'test-password',
  });
  runner = { pfx: issued.pfx, passphrase: 'test-password' };
  await platform.cloak.data.createTable(orgId, {
    name: 'visits',
    columns: [{ name: 'page', type: 'text' }],
  });
  const rows: Record<string, unknown> = {};
  for (let u = 0; u < 100; u++) rows[`u${u}`] = { visits: [{ page: 'home' }] };
  await platform.cloak.data.insert(orgId, rows);
}, 60_000);

afterAll(async () => {
  await platform?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('health', () => {
  it('answers /healthz and /readyz on both APIs without a client certificate', async () => {
    for (const call of [web, cloak]) {
      const live = await call('/healthz');
      expect(live.status).toBe(200);
      expect(live.json).toEqual({ success: true, status: 'alive' });
      const ready = await call('/readyz');
      expect(ready.status, ready.text).toBe(200);
      expect(ready.json).toEqual({ success: true, status: 'ready' });
    }
  }, 30_000);

  it('names every request with a random UUID, never a counter', async () => {
    const ids = await Promise.all([web('/healthz'), web('/healthz'), cloak('/healthz')]).then(
      (answers) => answers.map((a) => String(a.headers['x-request-id'])),
    );
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(3);
  });
});

describe('metrics', () => {
  it('serves only GET /metrics on its own listener, bound to the loopback address', async () => {
    expect(platform.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect((await fetch(platform.metricsUrl!.replace('/metrics', '/'))).status).toBe(404);
    const text = await fetch(platform.metricsUrl!).then((r) => r.text());
    expect(text).toContain('opencloak_process_cpu_seconds_total');
  });

  it('counts a run, its users, its budget and its request, by route pattern', async () => {
    const before = {
      started: await sample('opencloak_runs_started_total{kind="run"}'),
      completed: await sample('opencloak_runs_finished_total{kind="run",outcome="completed"}'),
      users: await sample('opencloak_users_processed_total'),
      rho: await sample('opencloak_budget_rho_charged_total'),
    };
    const ran = await cloak('/task/run', { key: runner, body: { task_id: 't1', ...task } });
    expect(ran.status, ran.text).toBe(200);
    expect(await sample('opencloak_runs_started_total{kind="run"}')).toBe(before.started + 1);
    expect(await sample('opencloak_runs_finished_total{kind="run",outcome="completed"}')).toBe(
      before.completed + 1,
    );
    expect(await sample('opencloak_users_processed_total')).toBe(before.users + 100);
    expect(await sample('opencloak_budget_rho_charged_total')).toBeGreaterThan(before.rho);
    expect(await sample('opencloak_runs_in_progress{kind="run"}')).toBe(0);
    expect(await sample('opencloak_runs_waiting{waiting_for="release"}')).toBe(0);
    expect(
      await sample(
        'opencloak_http_request_duration_seconds_count{api="cloak",method="POST",route="/task/run",status="200"}',
      ),
    ).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('are all listed in docs/operations.md', async () => {
    const docs = readFileSync(
      path.resolve(import.meta.dirname, '../../docs/operations.md'),
      'utf8',
    );
    const own = (await platform.metrics.registry.getMetricsAsJSON())
      .map((m) => m.name)
      .filter((name) => !/^opencloak_(process|nodejs)_/.test(name));
    expect(own).toHaveLength(7);
    for (const name of own) expect(docs).toContain(`\`${name}\``);
  });

  it('labels an answer by its route pattern, not by the URL with its ids', async () => {
    await web('/api/tasks/qqqqqqqqqqqq');
    await web('/no/such/path/zzzzqzzzzq');
    const text = await fetch(platform.metricsUrl!).then((r) => r.text());
    expect(text).toContain('route="/api/tasks/:token"');
    expect(text).toContain('route="(unmatched)"');
    // Letters no metric name or value holds (a number in the path could be part of a figure).
    expect(text).not.toContain('qqqqqqqqqqqq');
    expect(text).not.toContain('zzzzqzzzzq');
  });
});

describe('logs', () => {
  it('carries the run id in every line about a run, and in the answer', async () => {
    const ran = await cloak('/task/run', { key: runner, body: { task_id: 't2', ...task } });
    const runId = String(ran.headers['x-opencloak-run-id']);
    expect(runId).toMatch(UUID);
    const about = lines.filter((l) => l.runId === runId);
    expect(about.map((l) => l.msg)).toEqual(['run started', 'run finished']);
    expect(about[1]).toMatchObject({ outcome: 'completed', component: 'runs' });
  }, 60_000);

  it('names the run in an error answer too', async () => {
    const code = 'throw new Error("x")';
    const failed = await cloak('/task/run', {
      key: runner,
      body: { ...task, post_processing: { code: `${code}; }` } },
    });
    expect(failed.status).toBe(422);
    expect(String(failed.headers['x-opencloak-run-id'])).toMatch(UUID);
  });
});

describe('draining', () => {
  it('turns /readyz to 503 with a reason and refuses new runs with a clear error', async () => {
    platform.readiness.drain();
    const ready = await cloak('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json.success).toBe(false);
    expect(ready.json.error).toContain('shutting down');
    expect((await web('/healthz')).status).toBe(200);
    platform.cloak.runner.runs.checkAccepting();
    await platform.cloak.runner.runs.drain(0);
    const refused = await cloak('/task/run', { key: runner, body: { task_id: 't3', ...task } });
    expect(refused.status).toBe(503);
    expect(refused.json.error).toContain('starts no new ones');
  });
});
