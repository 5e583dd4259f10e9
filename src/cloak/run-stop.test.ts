// A run that is cancelled or reaches its whole-run limit stops its sandbox processes at once, not when its batches would end.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import { liveSandboxProcesses } from '../sandbox/test-support.ts';
import { openCloak, TaskRunner, type Cloak } from './index.ts';

const ORG = 'org-stop';
/** Every user loops to the per-user limit: one batch of 128 users would take over 10 minutes. */
const LOOP = { code: 'while (true) {}', prefetch: [{ table: 't' }] };
const USER_LIMIT_MS = 5000;

const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));

describe('stopping a run', () => {
  let dir: string;
  let cloak: Cloak;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-run-stop-'));
    cloak = await openCloak(
      buildConfig({
        dataDir: dir,
        cloak: { sandboxProcesses: 2 },
        sandbox: { timeoutMs: USER_LIMIT_MS },
      }),
    );
    await cloak.data.createTable(ORG, { name: 't', columns: [{ name: 'n', type: 'integer' }] });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < 600; u++) rows[`u${u}`] = { t: [{ n: u }] };
    await cloak.data.insert(ORG, rows);
  });
  afterAll(async () => {
    await cloak.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no sandbox process once a cancelled run has answered', async () => {
    const controller = new AbortController();
    const run = cloak.runner.run(ORG, LOOP, { signal: controller.signal });
    while (liveSandboxProcesses().length === 0) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    expect(await run.then(String, codeOf)).toBe('TASK_RUN_CANCELLED');
    expect(liveSandboxProcesses()).toEqual([]);
  });

  it('leaves no sandbox process once a run has answered that it reached its limit', async () => {
    // A whole-run limit shorter than one user's: the processes are mid-user when it strikes.
    const run = cloak.runner.run(ORG, LOOP, { timeoutSeconds: 2 });
    expect(await run.then(String, codeOf)).toBe('TASK_RUN_TIMEOUT');
    expect(liveSandboxProcesses()).toEqual([]);
  });

  it('stops a run cancelled while it got ready, before its sandbox processes had started', async () => {
    const controller = new AbortController();
    // The cancel lands while the run reads its lookup tables: after the run listens for it, before
    // its sandbox processes exist, so that their stopper is registered after the stop. Left
    // running, two batches of looping users would take about 10 minutes here.
    const data = new Proxy(cloak.data, {
      get(target, key) {
        if (key === 'lookupReader') {
          return async (orgId: string) => {
            controller.abort();
            return target.lookupReader(orgId);
          };
        }
        const value = Reflect.get(target, key, target) as unknown;
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const runner = new TaskRunner(data, {
      secret: new Uint8Array(32).fill(3),
      limits: { timeoutMs: USER_LIMIT_MS, memoryLimitMb: 64, maxPropertiesPerUser: 100 },
      runTimeoutSeconds: 3600,
      processes: 2,
    });
    const run = runner.run(ORG, LOOP, { signal: controller.signal }).then(String, codeOf);
    const gaveUp = new Promise((resolve) => setTimeout(() => resolve('still running'), 30_000));
    expect(await Promise.race([run, gaveUp])).toBe('TASK_RUN_CANCELLED');
    expect(liveSandboxProcesses()).toEqual([]);
  }, 60_000);
});
