// Sandbox processes run under SCHED_IDLE: a server thread that wakes takes the core at once.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runUsers } from './test-support.ts';

/** Linux's SCHED_IDLE (sched.h); SCHED_OTHER, the default, is 0. */
const SCHED_IDLE = 5;

/** This process's sandbox children, each with the scheduling policy of every thread. */
function sandboxPolicies(): Array<{ pid: number; policies: number[] }> {
  const found: Array<{ pid: number; policies: number[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (field(readFileSync(`/proc/${entry}/stat`, 'utf8'), 4) !== process.pid) continue;
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('sandbox-child.mjs')) continue;
      const policies = readdirSync(`/proc/${entry}/task`).map((tid) =>
        field(readFileSync(`/proc/${entry}/task/${tid}/stat`, 'utf8'), 41),
      );
      found.push({ pid: Number(entry), policies });
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** Field n (from 1) of a /proc stat line; the command in field 2 may hold spaces. */
function field(stat: string, n: number): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[n - 3]);
}

describe('sandbox scheduling', () => {
  it('runs every thread of a sandbox process under SCHED_IDLE', async () => {
    let seen: ReturnType<typeof sandboxPolicies> = [];
    const run = runUsers(
      'let x = 0; for (let i = 0; i < 3e7; i++) x = (x + i) | 0; report_property("done", x === -1 ? 0 : 1);',
      [{ tables: {} }],
      { timeoutMs: 5000 },
    );
    const watch = setInterval(() => {
      const now = sandboxPolicies();
      if (now.length > 0) seen = now;
    }, 20);
    try {
      const [outcome] = await run;
      expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
    } finally {
      clearInterval(watch);
    }
    expect(seen.length).toBeGreaterThan(0);
    for (const { policies } of seen) {
      expect(policies.length).toBeGreaterThan(1);
      expect(new Set(policies)).toEqual(new Set([SCHED_IDLE]));
    }
    // The test's own process keeps the default policy: what wakes to answer requests wins.
    expect(field(readFileSync('/proc/self/stat', 'utf8'), 41)).toBe(0);
  });
});
