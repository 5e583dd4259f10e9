// "Try it": runs a task in the sandbox on made-up test users, never on the organisation's rows.
import { compileTask, type CellValue, type SandboxLimits } from '../sandbox/index.ts';
import type { TaskSpec } from '../shared/index.ts';
import type { TaskRunner } from './task-runner.ts';

export interface TestUserInput {
  id: string;
  tables: Record<string, Array<Record<string, CellValue>>>;
}

export type TestUserResult =
  | { id: string; ok: true; properties: Array<[label: string, value: string]> }
  | { id: string; ok: false; error: string };

/**
 * The task is validated against the organisation's table definitions (so it would also run for
 * real), then run once per test user with only the selected tables. There is no host lookup, so
 * lookup tables (real data) read as undefined. The outcomes are shown raw: no real user is in them.
 */
export function tryTask(
  runner: TaskRunner,
  limits: SandboxLimits,
  orgId: string,
  spec: TaskSpec,
  users: readonly TestUserInput[],
): TestUserResult[] {
  const checked = runner.validate(orgId, spec);
  const selected = [...new Set(checked.prefetch.map((p) => p.table))];
  const program = compileTask(checked.code, limits);
  try {
    const outcomes = program.runUsers(
      users.map((user) => ({
        tables: Object.fromEntries(selected.map((table) => [table, user.tables[table] ?? []])),
      })),
    );
    return outcomes.map((outcome, i): TestUserResult => {
      const id = users[i]!.id;
      return outcome.ok
        ? { id, ok: true, properties: outcome.properties }
        : { id, ok: false, error: outcome.error };
    });
  } finally {
    program.dispose();
  }
}
