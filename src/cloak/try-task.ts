// "Try it": runs a task in the sandbox on made-up test users, never on the organisation's rows.
import { AppError } from '../errors/index.ts';
import { compileTask, type SandboxLimits, type SandboxProcessCache } from '../sandbox/index.ts';
import type { TaskSpec } from '../shared/index.ts';
import type { TaskRunner } from './task-runner.ts';
import type { TestUserInput, TestUserResult } from './test-users.ts';

export type { TestUserInput, TestUserResult } from './test-users.ts';

export interface TryTaskOptions {
  /** The sandbox's per-user limits, as for real runs. */
  limits: SandboxLimits;
  /** Whole-request limit (cloak.tryTimeoutSeconds): no test user starts after it. */
  timeoutSeconds: number;
  /**
   * Idle sandbox processes kept between try-its: an analyst tries a task again and again while
   * writing it, and each try would otherwise start Node. Try-its of an organisation share them
   * with each other only, never with its runs.
   */
  processCache?: SandboxProcessCache;
}

/** The outcome text the sandbox gives a user who ran out of time (compile-task.ts). */
const USER_TIMEOUT = /^Timeout: /;

/**
 * The task is validated against the organisation's table definitions (so it would also run for
 * real), then run once per test user with only the selected tables. There is no host lookup, so
 * lookup tables (real data) read as undefined. The outcomes are shown raw: no real user is in them.
 *
 * The sandbox is awaited, never read with a blocking call: a try-it must not hold up other
 * organisations' requests. Users go one at a time so that the whole-request limit is checked
 * between them and overshoots by at most one user's time limit; a try-it has few users, so the
 * extra hand-overs cost nothing noticeable. Past the limit the request fails as a whole
 * (TRY_TASK_TIMEOUT) and its sandbox process is stopped.
 */
export async function tryTask(
  runner: TaskRunner,
  options: TryTaskOptions,
  orgId: string,
  spec: TaskSpec,
  users: readonly TestUserInput[],
): Promise<TestUserResult[]> {
  const checked = await runner.validateAsync(orgId, spec);
  // A sql task has no per-user program: its query runs on the test users' rows (try-sql-task.ts).
  if (checked.language === 'sql') return runner.trySql(orgId, checked.code, users);
  const selected = [...new Set(checked.prefetch.map((p) => p.table))];
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const reuse = options.processCache?.scoped(`try-it:${orgId}`);
  const program = compileTask(checked.code, options.limits, {}, reuse);
  const results: TestUserResult[] = [];
  let finished = false;
  try {
    for (const user of users) {
      if (Date.now() >= deadline) {
        throw new AppError('TRY_TASK_TIMEOUT', {
          seconds: options.timeoutSeconds,
          done: results.length,
          total: users.length,
          timeouts: results.filter((r) => !r.ok && USER_TIMEOUT.test(r.error)).length,
          userMs: options.limits.timeoutMs,
        });
      }
      const tables = Object.fromEntries(selected.map((table) => [table, user.tables[table] ?? []]));
      const [outcome] = await program.runUsers([{ tables }]);
      results.push(
        outcome!.ok
          ? { id: user.id, ok: true, properties: outcome!.properties }
          : { id: user.id, ok: false, error: outcome!.error },
      );
    }
    finished = true;
    return results;
  } finally {
    // Past the whole-request limit the process is stopped; a finished try-it's waits for the next.
    await (finished ? program.release() : program.dispose());
  }
}
