// One server per data directory: a second `opencloak start` on the same directory is refused with
// the other process named, and a server killed with SIGKILL does not leave the directory locked.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cliCommand,
  exited,
  startServerProcess,
  stopServerProcess,
} from '../support/server-process.ts';

describe('one server per data directory', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-lock-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses a second server on the same directory, naming the first, until the first is gone', async () => {
    const first = await startServerProcess(dataDir);
    try {
      // Other ports, same directory: before the lock this started with its own caps and throttle.
      const second = spawnSync(
        process.execPath,
        cliCommand([
          '--data-dir',
          dataDir,
          'start',
          '--host',
          '127.0.0.1',
          '--web-port',
          '0',
          '--cloak-port',
          '0',
        ]),
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(second.status, second.stdout).toBe(2);
      expect(second.stdout).not.toContain('OpenCloak is running');
      expect(second.stderr).toMatch(
        new RegExp(
          `data directory ${escape(dataDir)} is in use by process ${first.child.pid} \\(started \\d{4}-\\d\\d-\\d\\dT`,
        ),
      );
    } finally {
      const gone = exited(first.child);
      first.child.kill('SIGKILL');
      await gone;
    }
    // The lock belongs to the process: a SIGKILL releases it with no stale file to clean up.
    const third = await startServerProcess(dataDir);
    await stopServerProcess(third);
  }, 120_000);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
