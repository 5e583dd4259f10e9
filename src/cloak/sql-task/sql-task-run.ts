// The task runner's sql side: checks a sql task, and feeds its per-user group sets to the aggregator.
import { AppError } from '../../errors/index.ts';
import {
  MAX_PROPERTY_TEXT_LENGTH,
  type SandboxLimits,
  type UserOutcome,
} from '../../sandbox/index.ts';
import type { PrefetchSpec, TaskSpec } from '../../shared/index.ts';
import type { CloakDataStore, CompiledSqlTask } from '../data/index.ts';
import type { SqlTaskQuery } from './sql-task-model.ts';
import { parseSqlTask } from './parse-sql-task.ts';
import { sqlError } from './sql-errors.ts';

/** Users between two yields to the event loop (and checks of the deadline and cancellation). */
const USERS_PER_SLICE = 4096;

/**
 * Parses and compiles the query against the organisation's tables. The prefetch of a sql task is
 * the list of tables its query reads, which the cloak derives; a given prefetch must be that list
 * (rows are selected by the query's WHERE, not by prefetch filters).
 */
export function checkSqlTask(
  compile: (query: SqlTaskQuery) => CompiledSqlTask,
  code: string,
  prefetch: unknown,
): TaskSpec {
  return checkCompiledSqlTask(compile(parseSqlTask(code)), code, prefetch);
}

/** The same with a store that compiles asynchronously (any CloakDataStore). */
export async function checkSqlTaskAsync(
  data: CloakDataStore,
  orgId: string,
  code: string,
  prefetch: unknown,
): Promise<TaskSpec> {
  return checkCompiledSqlTask(await data.compileSqlTask(orgId, parseSqlTask(code)), code, prefetch);
}

function checkCompiledSqlTask(
  compiled: CompiledSqlTask,
  code: string,
  prefetch: unknown,
): TaskSpec {
  if (compiled.label.length > MAX_PROPERTY_TEXT_LENGTH) {
    throw sqlError(
      undefined,
      `the bucket label "${compiled.label.slice(0, 40)}..." is longer than ${MAX_PROPERTY_TEXT_LENGTH} characters; use shorter aliases.`,
    );
  }
  const derived: PrefetchSpec[] = compiled.tables.map((table) => ({ table }));
  if (prefetch !== undefined && !(Array.isArray(prefetch) && prefetch.length === 0)) {
    const same =
      Array.isArray(prefetch) &&
      prefetch.length === derived.length &&
      prefetch.every((p, i) => {
        const entry = p as Record<string, unknown> | null;
        return (
          entry !== null &&
          typeof entry === 'object' &&
          Object.keys(entry).length === 1 &&
          entry.table === derived[i]!.table
        );
      });
    if (!same) {
      throw new AppError('INVALID_BODY', {
        detail: `a sql task selects its rows in its query: leave "prefetch" out (or give [${derived.map((d) => JSON.stringify(d)).join(', ')}]), and put filters in WHERE.`,
      });
    }
  }
  return { code, prefetch: derived, language: 'sql' };
}

export interface UserFeed {
  /** Called once per user with rows, in user-id order, as the sandbox's outcomes are. */
  count(userId: string, outcome: UserOutcome): void;
  /** Throws to stop the run (cancelled, past its deadline); called between slices of users. */
  checkRun(): void;
  onUsers?(users: number): void;
  /** Registers what stops the feed's work at once when the run is cancelled or times out. */
  onStop?(halt: () => void): void;
}

/** Streams the groups, yielding to the event loop between slices so a long run freezes nothing. */
export async function feedSqlGroups(
  data: CloakDataStore,
  orgId: string,
  code: string,
  limits: SandboxLimits,
  feed: UserFeed,
): Promise<void> {
  const query = parseSqlTask(code);
  const groupLimits = {
    maxProperties: limits.maxPropertiesPerUser,
    maxTextLength: MAX_PROPERTY_TEXT_LENGTH,
  };
  let slice = 0;
  for await (const users of data.streamSqlGroups(orgId, query, groupLimits)) {
    // A user's groups are already an outcome's shape (with the user id besides): no copy per user.
    for (const user of users) feed.count(user.userId, user);
    slice += users.length;
    if (slice < USERS_PER_SLICE) continue;
    feed.onUsers?.(slice);
    slice = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
    feed.checkRun();
  }
  if (slice > 0) feed.onUsers?.(slice);
  feed.checkRun();
}
