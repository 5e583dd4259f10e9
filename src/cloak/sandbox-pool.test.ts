import { describe, expect, it } from 'vitest';
import { compileTask, type TaskProgram } from '../sandbox/index.ts';
import { liveSandboxProcesses } from '../sandbox/test-support.ts';
import { SandboxPool } from './sandbox-pool.ts';

/** Resolves once `ready` holds, checking every 20 ms. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 20));
}

const LIMITS = { timeoutMs: 1000, memoryLimitMb: 64, maxPropertiesPerUser: 100 };
type User = { id: number; tables: { t: Array<{ n: number }> } };
const users = (from: number, count: number): User[] =>
  Array.from({ length: count }, (_, i) => ({ id: from + i, tables: { t: [{ n: from + i }] } }));

describe('SandboxPool', () => {
  it('runs batches on up to `size` processes at once and reports every user once', async () => {
    const compiled: TaskProgram[] = [];
    let running = 0;
    let most = 0;
    // Counts the batches that are inside a sandbox process at the same moment.
    const compile = (): TaskProgram => {
      const program = compileTask('report_property("n", tables.t[0].n * 2);', LIMITS, {});
      compiled.push(program);
      return {
        runUser: (input) => program.runUser(input),
        async runUsers(inputs) {
          most = Math.max(most, ++running);
          try {
            return await program.runUsers(inputs);
          } finally {
            running--;
          }
        },
        dispose: () => program.dispose(),
        release: () => program.release(),
      };
    };
    const pool = new SandboxPool<User>(compile, compile(), 2);
    const seen = new Map<number, string>();
    const done = (batch: User[], outcomes: Array<{ ok: boolean; properties?: unknown }>) =>
      batch.forEach((u, i) => seen.set(u.id, JSON.stringify(outcomes[i])));
    try {
      for (let b = 0; b < 6; b++) await pool.submit(users(b * 50, 50), done);
      await pool.drain();
    } finally {
      await pool.dispose();
    }
    expect(compiled).toHaveLength(2);
    expect(most).toBe(2);
    expect(seen.size).toBe(300);
    expect(seen.get(123)).toBe(JSON.stringify({ ok: true, properties: [['n', '246']] }));
  });

  it('throws the first failure from the next submit or drain, and disposes every process', async () => {
    const program = compileTask('report_property("a", 1);', LIMITS, {});
    const pool = new SandboxPool<User>(() => program, program, 1);
    await pool.submit(users(0, 3), () => {
      throw new Error('aggregation failed');
    });
    await expect(pool.drain()).rejects.toThrow('aggregation failed');
    await pool.dispose();
    await expect(program.runUsers(users(0, 1))).rejects.toThrow(/disposed/);
  });

  it('kills busy processes at once on dispose, so a stopped run does no more work', async () => {
    const looping = () => compileTask('while (true) {}', { ...LIMITS, timeoutMs: 60_000 }, {});
    const pool = new SandboxPool<User>(looping, looping(), 2);
    const before = liveSandboxProcesses().length;
    // Two batches that would each take 10 users x 60 s.
    await pool.submit(users(0, 10), () => undefined);
    await pool.submit(users(10, 10), () => undefined);
    await until(() => liveSandboxProcesses().length === before + 2);
    await pool.dispose();
    // dispose settles once the killed batches have: their processes have exited by then.
    expect(liveSandboxProcesses().length).toBe(before);
    await expect(pool.drain()).rejects.toThrow(/disposed/);
  });
});
