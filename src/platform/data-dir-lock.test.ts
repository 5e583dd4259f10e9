// The data directory lock: one holder at a time, named in the refusal, free again once released.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDataDir } from './data-dir-lock.ts';

describe('data directory lock', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-lock-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second holder, even in the same process, naming the first and when it started', () => {
    const before = Date.now();
    const first = lockDataDir(dir, 'server');
    try {
      let message = '';
      try {
        lockDataDir(dir, 'restore').release();
      } catch (error) {
        message = (error as Error).message;
      }
      const match = /is in use by process (\d+) \(started ([^)]+)\)/.exec(message);
      expect(match, message).not.toBeNull();
      expect(Number(match![1])).toBe(process.pid);
      expect(Date.parse(match![2]!)).toBeGreaterThanOrEqual(before - 1000);
      expect(message).toContain(`data directory ${dir} is in use`);
    } finally {
      first.release();
    }
    // Released (twice is harmless): the next holder gets it.
    first.release();
    lockDataDir(dir, 'server').release();
  });
});
