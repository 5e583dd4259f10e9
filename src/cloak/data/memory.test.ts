// streamUsers runs in bounded memory: 200k users x 5 rows stream with a small, flat heap (not a timing test).
// The stream runs in a child process: a test worker's heap also holds what earlier test files left
// (isolate: false), which made the bound depend on the files before (157 MB once, against 100).
import { describe, expect, it } from 'vitest';
import { measureInChild } from './test-support.ts';

const USERS = 200_000;
const ROWS_PER_USER = 5;
const MiB = 1024 * 1024;

interface StreamMemory {
  users: number;
  rows: number;
  ordered: boolean;
  peak: number;
}

describe('memory', () => {
  it(`streams ${USERS} users x ${ROWS_PER_USER} rows one by one with a flat heap`, async () => {
    const m = await measureInChild<StreamMemory>(new URL('./memory.child.ts', import.meta.url), [
      String(USERS),
      String(ROWS_PER_USER),
    ]);
    expect(m.users).toBe(USERS);
    expect(m.rows).toBe(USERS * ROWS_PER_USER + USERS / 2);
    expect(m.ordered).toBe(true);
    // Measured in a process of its own, collected before each reading: about 0.1 MiB retained.
    // The rows of 200,000 users as objects would take well over 100 MiB; a stream holds a batch.
    expect(m.peak).toBeLessThan(16 * MiB);
  }, 300_000);
});
