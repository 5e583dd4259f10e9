// Readiness: a failing check names its part and nothing more, passes are cached, draining wins.
import { describe, expect, it } from 'vitest';
import type { OpsLog } from '../shared/index.ts';
import { ReadinessChecks } from './readiness.ts';

function recordingLog() {
  const lines: Array<{ details: object; message: string }> = [];
  const log: OpsLog = {
    info: (details, message) => void lines.push({ details, message }),
    warn: (details, message) => void lines.push({ details, message }),
    error: (details, message) => void lines.push({ details, message }),
    child: () => log,
  };
  return { log, lines };
}

describe('ReadinessChecks', () => {
  it('is ready when every check answers', async () => {
    const checks = new ReadinessChecks(
      [{ name: 'the store', check: () => undefined }],
      recordingLog().log,
    );
    expect(await checks.probe()).toEqual({ ready: true });
  });

  it('names the failing part in the answer and keeps the detail for the log', async () => {
    const { log, lines } = recordingLog();
    const checks = new ReadinessChecks(
      [
        { name: 'the air store', check: () => undefined },
        {
          name: 'the cloak store',
          check: () => {
            throw new Error('SQLITE_CANTOPEN: /secret/path/cloak.db');
          },
        },
      ],
      log,
    );
    const answer = await checks.probe();
    expect(answer).toEqual({ ready: false, reason: 'the cloak store does not answer' });
    expect(JSON.stringify(answer)).not.toContain('/secret/path');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.details).toMatchObject({ check: 'the cloak store' });
  });

  it('runs a slow check again only after its cache time, and a failed one at once', async () => {
    let now = 0;
    let calls = 0;
    let failing = false;
    const checks = new ReadinessChecks(
      [
        {
          name: 'the sandbox',
          cacheMs: 60_000,
          check: async () => {
            calls++;
            if (failing) throw new Error('no process');
          },
        },
      ],
      recordingLog().log,
      () => now,
    );
    await checks.probe();
    now = 59_999;
    await checks.probe();
    expect(calls).toBe(1);
    now = 60_000;
    failing = true;
    expect((await checks.probe()).ready).toBe(false);
    expect((await checks.probe()).ready).toBe(false);
    expect(calls).toBe(3);
  });

  it('runs one check for many probes that arrive at once', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const checks = new ReadinessChecks(
      [
        {
          name: 'the sandbox',
          check: () => {
            calls++;
            return new Promise<void>((resolve) => (release = resolve));
          },
        },
      ],
      recordingLog().log,
    );
    const probes = Array.from({ length: 50 }, () => checks.probe());
    await Promise.resolve();
    await Promise.resolve();
    release();
    const answers = await Promise.all(probes);
    expect(answers.every((a) => a.ready)).toBe(true);
    expect(calls).toBe(1);
  });

  it('answers not ready once draining, without running a check', async () => {
    let calls = 0;
    const checks = new ReadinessChecks(
      [{ name: 'the store', check: () => void calls++ }],
      recordingLog().log,
    );
    checks.drain();
    expect(await checks.probe()).toEqual({
      ready: false,
      reason: 'it is shutting down (draining its runs)',
    });
    expect(calls).toBe(0);
  });
});
