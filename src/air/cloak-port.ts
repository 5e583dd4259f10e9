// The only way the air reaches the cloak: tasks, table definitions, and anonymized results.
import type {
  AccessLevel,
  AnonymizedResult,
  BudgetPreview,
  BudgetState,
  ColumnDefinition,
  RunControl,
  TaskSpec,
} from '../shared/index.ts';

/** A user table's definition: names and types only, never rows. */
export interface TableSummary {
  name: string;
  columns: ColumnDefinition[];
  version: number;
}

/**
 * A table's number of users with rows, anonymized like any result: `null` when the anonymizer
 * suppresses it (too few users to publish).
 */
export interface TableUserCount {
  table: string;
  users: number | null;
}

/** One made-up user for "try it": rows per table, written by the analyst. */
export interface TestUser {
  id: string;
  tables: Record<string, Array<Record<string, string | number | boolean | null>>>;
}

/** What the task did for one test user: these are not real users, so nothing is anonymized. */
export type TestUserOutcome =
  | { id: string; ok: true; properties: Array<[label: string, value: string]> }
  | { id: string; ok: false; error: string };

/**
 * The air holds no handle on raw rows: everything it gets from the cloak passes through this
 * interface, whose results are already anonymized. The embedded default implements it in-process
 * (src/platform); a remote cloak would implement it over the cloak API.
 */
export interface CloakPort {
  /** Throws an AppError naming the problem (unknown table or column, bad filter, syntax error). */
  validateTask(orgId: string, spec: TaskSpec): TaskSpec;
  /**
   * `control` reports progress and can cancel; a cancelled run throws and publishes nothing.
   * `access` (default untrusted) is decided by the air from its own records of the people behind
   * the run (TaskService), never from request input; a trusted run skips the participation
   * budget only, and the air has audited it with its code before calling.
   */
  runTask(
    orgId: string,
    spec: TaskSpec,
    control?: RunControl,
    access?: AccessLevel,
  ): Promise<AnonymizedResult>;
  /**
   * Throws an AppError (TOO_MANY_RUNS) when the organisation already has its cap of runs in
   * progress. One cap for every API: it counts runs whose sandbox work is still alive (a cancelled
   * run until its work has stopped), whoever started them. runTask and previewTask enforce it too;
   * this lets the air refuse before it answers that a run has started.
   */
  checkRunCap(orgId: string): void;
  /**
   * A cost preview: the task runs exactly as runTask would run it (same sandbox, release schedule
   * and access rule) and is settled against the participation budget, then rolled back, so nobody's
   * budget is spent and nothing is published; only the notice the run would publish comes back.
   * It takes one of the period's notices (the next one is noisier), as a run does.
   */
  previewTask(
    orgId: string,
    spec: TaskSpec,
    control?: RunControl,
    access?: AccessLevel,
  ): Promise<BudgetPreview>;
  /**
   * The organisation's participation budget as it may be shown: settings, its number of notices
   * this period and the latest `limit` notices (already published). Undefined when the budget is
   * off on this installation.
   */
  budgetState(orgId: string, limit: number): Promise<BudgetState | undefined>;
  /** Starts, changes (spec) or stops (null) a streaming task; the cloak keeps its per-user state. */
  setStreamingTask(orgId: string, taskKey: string, spec: TaskSpec | null): void;
  /** The anonymized properties of the users a streaming task saw in the last `userExpireSeconds`. */
  streamingReport(
    orgId: string,
    taskKey: string,
    userExpireSeconds: number,
  ): Promise<AnonymizedResult>;
  /**
   * Runs the task in the sandbox on the given test users only: no real rows and no lookup tables
   * are read. The task is validated against the organisation's table definitions first. Each
   * user has the sandbox's usual limits, and the whole call a time limit of its own (an AppError,
   * TRY_TASK_TIMEOUT, past it); the caller's event loop is never blocked while the sandbox works.
   */
  tryTask(orgId: string, spec: TaskSpec, users: readonly TestUser[]): Promise<TestUserOutcome[]>;
  listTables(orgId: string): TableSummary[];
  /** `definition` is `{name, columns: [{name, type}]}`; the cloak validates it. */
  defineTable(orgId: string, definition: unknown): TableSummary;
  /** `change` is `{add?: [{name, type}], drop?: [name]}`. */
  alterTable(orgId: string, name: string, change: unknown): TableSummary;
  dropTable(orgId: string, name: string): void;
  userCounts(orgId: string): Promise<TableUserCount[]>;
}
