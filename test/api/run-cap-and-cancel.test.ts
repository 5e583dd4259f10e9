// A cancelled run stops its sandbox work at once, and one run cap per organisation holds over every API.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveSandboxProcesses } from '../../src/sandbox/test-support.ts';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

const CAP = 2;
const PROCESSES_PER_RUN = 2;
/** The per-user limit: a cancelled run's processes must be gone well within it. */
const USER_LIMIT_MS = 5000;
/** Every user loops to the limit: a batch of 128 would keep a process busy for 10 minutes. */
const LOOP = 'while (true) {}';
const USERS = 600;
const ROUNDS = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The most sandbox processes alive at once while it ran, sampled every 20 ms. */
function sampleProcesses() {
  let most = 0;
  const timer = setInterval(() => {
    most = Math.max(most, liveSandboxProcesses().length);
  }, 20);
  return {
    get most() {
      return most;
    },
    stop: () => clearInterval(timer),
  };
}

describe('run cap and cancellation', () => {
  let inst: TestInstallation;
  let orgId: string;
  let webKey: TestKey;
  let runnerKey: TestKey;
  let token: string;
  let receiver: http.Server;
  let returnUrl: string;

  beforeAll(async () => {
    inst = await startTestInstallation({
      cloak: {
        maxRunsPerOrganisation: CAP,
        sandboxProcesses: PROCESSES_PER_RUN,
        // Runs nobody cancels (the cloak API's async ones) stop here at the latest.
        backgroundTaskTimeoutSeconds: 20,
      },
      sandbox: { timeoutMs: USER_LIMIT_MS },
    });
    orgId = await inst.createOrg('Cancellers');
    webKey = await inst.issueKey(orgId, 'web_api');
    runnerKey = await inst.issueKey(orgId, 'task_runner');
    const { data } = inst.platform.cloak;
    await data.createTable(orgId, { name: 't', columns: [{ name: 'n', type: 'integer' }] });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`u${u}`] = { t: [{ n: u }] };
    await data.insert(orgId, rows);
    const created = await inst.web('/api/tasks', {
      key: webKey,
      body: { name: 'loop', code: LOOP, prefetch: [{ table: 't' }] },
    });
    token = created.json.task.token;
    receiver = http.createServer((req, res) => req.resume().on('end', () => res.end('ok')));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    returnUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/results`;
  }, 60_000);
  afterAll(async () => {
    await inst.stop();
    receiver.close();
  });

  const startWeb = () =>
    inst.web(`/api/tasks/${token}/run`, { key: webKey, body: { wait: false } });
  const cancelWeb = (runId: string) =>
    inst.web(`/api/tasks/${token}/runs/${runId}`, { key: webKey, method: 'DELETE' });
  const stateOf = async (runId: string) =>
    (await inst.web(`/api/tasks/${token}/runs/${runId}`, { key: webKey })).json.run.state;

  it('start, cancel, repeat: the work alive never exceeds the cap and stops at once', async () => {
    const sampler = sampleProcesses();
    const statuses: number[] = [];
    const runs: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const started = await startWeb();
        statuses.push(started.status);
        if (started.status !== 202) {
          await sleep(50);
          continue;
        }
        const runId: string = started.json.run.id;
        runs.push(runId);
        // Cancelled once its sandbox is at work, and the next one started without waiting.
        while (liveSandboxProcesses().length === 0) await sleep(20);
        expect((await cancelWeb(runId)).status).toBe(200);
      }
      const cancelledAt = performance.now();
      // Every cancelled run, not only the last: on a busy machine an earlier one may still be
      // stopping its processes when the last one has stopped.
      for (const runId of runs) while ((await stateOf(runId)) === 'running') await sleep(20);
      // A run says "cancelled" only once its processes have exited.
      expect(liveSandboxProcesses()).toEqual([]);
      const stoppedMs = performance.now() - cancelledAt;
      console.log(
        `cancel loop: ${statuses.filter((s) => s === 202).length} of ${ROUNDS} starts accepted ` +
          `(${statuses.join(' ')}), at most ${sampler.most} sandbox processes alive, ` +
          `all work gone ${stoppedMs.toFixed(0)} ms after the last cancel`,
      );
      expect(stoppedMs).toBeLessThan(USER_LIMIT_MS);
      expect(sampler.most).toBeLessThanOrEqual(CAP * PROCESSES_PER_RUN);
      expect(statuses).toContain(202);
    } finally {
      sampler.stop();
    }
  }, 120_000);

  it('runs started through the web API and the cloak API at once share one cap', async () => {
    const sampler = sampleProcesses();
    try {
      const cloakRun = () =>
        inst.cloak('/task/run', {
          key: runnerKey,
          headers: { async_query: 'true' },
          body: {
            task_id: 'loop',
            prefetch: [{ table: 't' }],
            post_processing: { code: LOOP },
            return_url: Buffer.from(returnUrl).toString('base64'),
            auth_token: 'secret-token',
          },
        });
      const answers = await Promise.all([startWeb(), cloakRun(), startWeb(), cloakRun()]);
      const accepted = answers.filter((a) => a.status === 202);
      console.log(`both APIs at once: ${answers.map((a) => a.status).join(' ')}`);
      expect(accepted).toHaveLength(CAP);
      expect(answers.filter((a) => a.status === 429)).toHaveLength(answers.length - CAP);
      // Let every admitted run reach its sandbox processes, then count them.
      await sleep(3000);
      expect(sampler.most).toBeLessThanOrEqual(CAP * PROCESSES_PER_RUN);
      // A fifth run, through either API, is refused while those work.
      expect((await startWeb()).status).toBe(429);
      expect((await cloakRun()).status).toBe(429);
      for (const answer of answers) {
        if (answer.status === 202 && answer.json.run) await cancelWeb(answer.json.run.id);
      }
    } finally {
      sampler.stop();
    }
  }, 120_000);
});
