// `opencloak start` on a full disk says so in one line (no stack trace) and exits non-zero.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = path.resolve(import.meta.dirname, '../../bin/opencloak.mjs');

/** /dev/full reads as empty and refuses every write with ENOSPC: a disk with no room left. */
const FULL_DEVICE = '/dev/full';

describe.skipIf(!existsSync(FULL_DEVICE))('opencloak start on a full disk', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-full-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['air.db', 'cloak.db'])('prints one clear line when %s cannot be written', (file) => {
    const dataDir = path.join(dir, file);
    mkdirSync(dataDir);
    symlinkSync(FULL_DEVICE, path.join(dataDir, file));
    const run = spawnSync(
      process.execPath,
      [BIN, '--data-dir', dataDir, 'start', '--web-port', '0', '--cloak-port', '0'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status).not.toBe(0);
    expect(run.stdout).not.toContain('OpenCloak is running');
    expect(run.stderr).toBe(
      `error: The server's disk is full: OpenCloak could not write to its data directory (${dataDir}). Free disk space on the server (or ask its operator to), then try again.\n`,
    );
  });
});
