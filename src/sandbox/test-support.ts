// Test helpers: run one task for several users in one sandbox and read back what each reported.
import { compileTask } from './compile-task.ts';
import type { SandboxLimits, TaskHost, UserInput, UserOutcome } from './types.ts';

/** Small limits keep the slow tests (timeouts, memory bombs) quick. */
export const TEST_LIMITS: Partial<SandboxLimits> = { timeoutMs: 1000, memoryLimitMb: 64 };

export function runUsers(
  code: string,
  users: UserInput[],
  limits: Partial<SandboxLimits> = {},
  host?: TaskHost,
): UserOutcome[] {
  const program = compileTask(code, { ...TEST_LIMITS, ...limits }, host);
  try {
    return users.map((user) => program.runUser(user));
  } finally {
    program.dispose();
  }
}

export function runOne(
  code: string,
  user: UserInput = { tables: {} },
  host?: TaskHost,
): UserOutcome {
  return runUsers(code, [user], {}, host)[0]!;
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
