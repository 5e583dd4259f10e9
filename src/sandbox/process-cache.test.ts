// Sandbox processes kept between tasks: what is reused, what never is, and that a reused process is indistinguishable from a new one.
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { compileTask } from './compile-task.ts';
import { SandboxProcessCache, type ProcessCacheOptions } from './process-cache.ts';
import { SandboxProcess } from './sandbox-process.ts';
import { TEST_LIMITS } from './test-support.ts';
import type { UserInput } from './types.ts';

const caches: SandboxProcessCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
});

function cacheOf(options: Partial<ProcessCacheOptions> = {}) {
  const cache = new SandboxProcessCache({ maxIdle: 4, idleMs: 60_000, maxTasks: 64, ...options });
  caches.push(cache);
  return cache;
}

const user = (n: number): UserInput => ({ tables: { t: [{ n }] } });

/** Runs `code` for `users` in a program of `scope`, then releases it into `cache`. */
async function runAndRelease(
  cache: SandboxProcessCache | undefined,
  scope: string,
  code: string,
  users: UserInput[] = [user(1)],
) {
  const program = compileTask(code, TEST_LIMITS, {}, cache ? { cache, scope } : undefined);
  const outcomes = await program.runUsers(users);
  await program.release();
  return outcomes;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean) {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 20));
}

/**
 * How deep a recursion gets before the stack overflows: it depends on where the isolate was made
 * and where the run starts, so it tells a process's history apart if anything does.
 */
const DEPTH_PROBE = `let depth = 0;
const down = () => { depth++; down(); };
try { down(); } catch (e) {}
report_property("depth", depth);`;

describe('SandboxProcessCache', () => {
  it("gives a released process to the same scope's next task, which runs its own code", async () => {
    const cache = cacheOf();
    await runAndRelease(cache, 'org-a', 'report_property("first", tables.t[0].n);');
    const [kept] = cache.pids();
    expect(kept).toBeGreaterThan(0);
    const outcomes = await runAndRelease(
      cache,
      'org-a',
      'report_property("second", 2 * tables.t[0].n);',
      [user(21)],
    );
    expect(outcomes).toEqual([{ ok: true, properties: [['second', '42']] }]);
    // The same process served the second task and is idle again.
    expect(cache.pids()).toEqual([kept]);
  });

  it('never hands a process to another scope (organisation)', async () => {
    const cache = cacheOf();
    await runAndRelease(cache, 'org-a', 'report_property("a", 1);');
    const [ofA] = cache.pids();
    await runAndRelease(cache, 'org-b', 'report_property("b", 1);');
    const pids = cache.pids();
    expect(pids).toHaveLength(2);
    expect(pids[0]).toBe(ofA);
    expect(pids[1]).not.toBe(ofA);
  });

  it('never hands a process to a task with other limits', async () => {
    const cache = cacheOf();
    await runAndRelease(cache, 'org-a', 'report_property("a", 1);');
    const program = compileTask(
      'report_property("a", 1);',
      { ...TEST_LIMITS, timeoutMs: 500 },
      {},
      { cache, scope: 'org-a' },
    );
    await program.runUsers([user(1)]);
    await program.release();
    expect(cache.pids()).toHaveLength(2);
  });

  it('a reused process is indistinguishable from a new one: the same recursion depth, heavy or timed-out task before it', async () => {
    const fresh = (await runAndRelease(undefined, 'org-a', DEPTH_PROBE))[0];
    const cache = cacheOf();
    const before = [
      'report_property("x", 1);',
      // A heavy run: grows the heap, so its isolate is retired.
      'const a = []; for (let i = 0; i < 300000; i++) a.push({ i }); report_property("n", a.length);',
      // A run that times out: its isolate is retired too.
      'for (;;) {}',
      DEPTH_PROBE,
    ];
    for (const code of before) {
      await runAndRelease(cache, 'org-a', code);
      const reused = (await runAndRelease(cache, 'org-a', DEPTH_PROBE))[0];
      expect(reused, `after: ${code}`).toEqual(fresh);
      expect(cache.pids()).toHaveLength(1);
    }
  });

  it('runs the next task in a new process when the kept one died while it waited', async () => {
    const cache = cacheOf();
    await runAndRelease(cache, 'org-a', 'report_property("x", 1);');
    const [kept] = cache.pids();
    process.kill(kept!, 'SIGKILL');
    expect(await runAndRelease(cache, 'org-a', 'report_property("y", tables.t[0].n);')).toEqual([
      { ok: true, properties: [['y', '1']] },
    ]);
    expect(cache.pids()).toHaveLength(1);
    expect(cache.pids()).not.toContain(kept);
  });

  it('kills a program stopped in the middle of a batch instead of keeping it', async () => {
    const cache = cacheOf();
    const program = compileTask(
      'for (;;) {}',
      { ...TEST_LIMITS, timeoutMs: 5000 },
      {},
      { cache, scope: 'org-a' },
    );
    const running = program.runUsers([user(1)]).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    await program.release(); // a batch is still out: this disposes
    await running;
    expect(cache.pids()).toEqual([]);
  });

  it('ends a process after maxTasks tasks, an idle one after idleMs, and every idle one on close', async () => {
    const cache = cacheOf({ maxTasks: 2, idleMs: 200 });
    await runAndRelease(cache, 'org-a', 'report_property("a", 1);');
    const [first] = cache.pids();
    await runAndRelease(cache, 'org-a', 'report_property("a", 2);');
    expect(cache.pids()).toEqual([]); // its second task was its last
    await waitUntil(() => !isRunning(first!));
    expect(isRunning(first!)).toBe(false);

    await runAndRelease(cache, 'org-a', 'report_property("a", 3);');
    const [idle] = cache.pids();
    await waitUntil(() => cache.pids().length === 0 && !isRunning(idle!));
    expect(cache.pids()).toEqual([]);
    expect(isRunning(idle!)).toBe(false);

    const closing = cacheOf();
    await runAndRelease(closing, 'org-a', 'report_property("a", 4);');
    const [open] = closing.pids();
    await closing.close();
    expect(isRunning(open!)).toBe(false);
    // Closed: a process released afterwards is ended, not kept.
    await runAndRelease(closing, 'org-a', 'report_property("a", 5);');
    expect(closing.pids()).toEqual([]);
  });

  it('keeps at most maxIdle processes, ending the oldest', async () => {
    const cache = cacheOf({ maxIdle: 1 });
    await runAndRelease(cache, 'org-a', 'report_property("a", 1);');
    const [oldest] = cache.pids();
    await runAndRelease(cache, 'org-b', 'report_property("b", 1);');
    expect(cache.pids()).toHaveLength(1);
    expect(cache.pids()[0]).not.toBe(oldest);
    await waitUntil(() => !isRunning(oldest!));
    expect(isRunning(oldest!)).toBe(false);
  });
});

describe('sandbox processes’ niceness', () => {
  it('is 19 by default and what sandbox.niceness says otherwise, kept apart in the cache', async () => {
    const cache = cacheOf();
    const code = 'report_property("n", tables.t[0].n);';
    for (const niceness of [undefined, 10]) {
      const limits = niceness === undefined ? TEST_LIMITS : { ...TEST_LIMITS, niceness };
      const program = compileTask(code, limits, {}, { cache, scope: 'org-a' });
      await program.runUsers([user(1)]);
      await program.release();
    }
    const [lowest, ten] = cache.pids();
    expect(os.getPriority(lowest!)).toBe(19);
    expect(os.getPriority(ten!)).toBe(10);
  });
});

describe('a spare process (started ahead of a run)', () => {
  afterEach(() => SandboxProcess.endSpare());

  it("is the run's first process, and runs as a process started for the run would", async () => {
    const fresh = (await runAndRelease(undefined, 'org-a', DEPTH_PROBE))[0];
    SandboxProcess.startSpare(TEST_LIMITS.niceness);
    const spare = SandboxProcess.sparePid;
    expect(spare).toBeGreaterThan(0);
    const cache = cacheOf();
    expect((await runAndRelease(cache, 'org-a', DEPTH_PROBE))[0]).toEqual(fresh);
    expect(cache.pids()).toEqual([spare]);
    expect(SandboxProcess.sparePid).toBeUndefined();
  });

  it('is not used for a run at another niceness, and is ended then', async () => {
    SandboxProcess.startSpare(10);
    const spare = SandboxProcess.sparePid!;
    const cache = cacheOf();
    await runAndRelease(cache, 'org-a', 'report_property("x", 1);');
    expect(cache.pids()).toHaveLength(1);
    expect(cache.pids()).not.toContain(spare);
    await waitUntil(() => !isRunning(spare));
    expect(isRunning(spare)).toBe(false);
  });

  it('is replaced when it died meanwhile, and ended when nobody took it', async () => {
    SandboxProcess.startSpare(TEST_LIMITS.niceness);
    const dead = SandboxProcess.sparePid!;
    process.kill(dead, 'SIGKILL');
    await waitUntil(() => !isRunning(dead));
    const cache = cacheOf();
    expect(await runAndRelease(cache, 'org-a', 'report_property("x", 1);')).toEqual([
      { ok: true, properties: [['x', '1']] },
    ]);
    expect(cache.pids()).not.toContain(dead);

    SandboxProcess.startSpare(TEST_LIMITS.niceness);
    const unused = SandboxProcess.sparePid!;
    expect(isRunning(unused)).toBe(true);
    await SandboxProcess.endSpare();
    expect(isRunning(unused)).toBe(false);
  });
});
