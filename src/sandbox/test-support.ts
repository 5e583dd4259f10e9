// Test helpers: run one task for several users in one sandbox and read back what each reported.
import { readdirSync, readFileSync } from 'node:fs';
import { compileTask } from './compile-task.ts';
import { SandboxProcessCache } from './process-cache.ts';
import type { SandboxLimits, TaskHost, UserInput, UserOutcome } from './types.ts';

/**
 * Processes kept between the helpers' programs, as the cloak keeps them between an
 * organisation's runs: most tests here run a user or two, and starting a process for each would
 * be most of their time. Each test file runs in a process of its own, so none shares them.
 */
const kept = new SandboxProcessCache({ maxIdle: 2, idleMs: 5_000, maxTasks: 64 });

/** Small limits keep the slow tests (timeouts, memory bombs) quick. */
export const TEST_LIMITS: Partial<SandboxLimits> = { timeoutMs: 1000, memoryLimitMb: 64 };

/** One user at a time, as separate exchanges (sandbox-batches.test.ts compares with batches). */
export async function runUsers(
  code: string,
  users: UserInput[],
  limits: Partial<SandboxLimits> = {},
  host?: TaskHost,
): Promise<UserOutcome[]> {
  const program = compileTask(code, { ...TEST_LIMITS, ...limits }, host, {
    cache: kept,
    scope: 'tests',
  });
  try {
    const outcomes: UserOutcome[] = [];
    for (const user of users) outcomes.push(await program.runUser(user));
    return outcomes;
  } finally {
    await program.release();
  }
}

export async function runOne(
  code: string,
  user: UserInput = { tables: {} },
  host?: TaskHost,
): Promise<UserOutcome> {
  return (await runUsers(code, [user], {}, host))[0]!;
}

/** User i has one row in table t: { id: i, secret: "secret-i" }. */
export function usersWithSecrets(count: number): UserInput[] {
  return Array.from({ length: count }, (_, id) => ({
    tables: { t: [{ id, secret: `secret-${id}` }] },
  }));
}

/** A successful outcome's properties as "label=value" strings; a failure as "error: ...". */
export function reports(outcome: UserOutcome): string[] {
  return outcome.ok
    ? outcome.properties.map(([label, value]) => `${label}=${value}`)
    : [`error: ${outcome.error}`];
}

/**
 * The sandbox processes that `parent` has started and that are still alive (Linux /proc): what a
 * test counts to tell whether a run's work goes on. Zombies (exited, not yet reaped) do no work.
 */
export function liveSandboxProcesses(parent: number = process.pid): number[] {
  // Not the helpers' idle processes above: test files share a worker (isolate: false), and a
  // file that counts a run's processes must not see another file's.
  const helpers = new Set(kept.pids());
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== parent || state === 'Z') continue;
      if (helpers.has(Number(entry))) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('sandbox-child.mjs')) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
