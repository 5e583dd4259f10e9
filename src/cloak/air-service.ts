// What the cloak offers the air: validation, runs, previews, budget state, streaming, try-it, tables, user counts.
import type { OpenCloakConfig } from '../config/index.ts';
import type { SandboxProcessCache } from '../sandbox/index.ts';
import type {
  AccessLevel,
  AnonymizedResult,
  BudgetPreview,
  BudgetState,
  RunControl,
  TaskSpec,
} from '../shared/index.ts';
import type { ParticipationBudget } from './participation-budget.ts';
import type { StreamingEngine } from './streaming/streaming-engine.ts';
import type { CloakDataStore, TableInfo } from './data/index.ts';
import type { TaskRunner } from './task-runner.ts';
import { tryTask, type TestUserInput, type TestUserResult } from './try-task.ts';

/** Bucket label of the task that counts a table's users; its value is empty. */
const USERS_LABEL = 'users';

/**
 * The air's port onto the cloak (air/cloak-port.ts, which this mirrors method for method: the
 * cloak may not import the air). The embedded default hands it to the air as it is; the cloak
 * API serves it on /service to an air on another host (routes/service.ts). One implementation,
 * so that both give the same answers for the same data and secret.
 */
export interface AirService {
  validateTask(orgId: string, spec: TaskSpec): Promise<TaskSpec>;
  runTask(
    orgId: string,
    spec: TaskSpec,
    control?: RunControl,
    access?: AccessLevel,
  ): Promise<AnonymizedResult>;
  checkRunCap(orgId: string): Promise<void>;
  previewTask(
    orgId: string,
    spec: TaskSpec,
    control?: RunControl,
    access?: AccessLevel,
  ): Promise<BudgetPreview>;
  budgetState(orgId: string, limit: number): Promise<BudgetState | undefined>;
  setStreamingTask(orgId: string, taskKey: string, spec: TaskSpec | null): Promise<void>;
  streamingReport(
    orgId: string,
    taskKey: string,
    userExpireSeconds: number,
  ): Promise<AnonymizedResult>;
  tryTask(
    orgId: string,
    spec: TaskSpec,
    users: readonly TestUserInput[],
  ): Promise<TestUserResult[]>;
  listTables(orgId: string): Promise<TableInfo[]>;
  defineTable(orgId: string, definition: unknown): Promise<TableInfo>;
  alterTable(orgId: string, name: string, change: unknown): Promise<TableInfo>;
  dropTable(orgId: string, name: string): Promise<void>;
  userCounts(orgId: string): Promise<Array<{ table: string; users: number | null }>>;
}

export interface AirServiceParts {
  data: CloakDataStore;
  runner: TaskRunner;
  budget: ParticipationBudget | undefined;
  streaming: StreamingEngine;
  /** Idle sandbox processes kept between an organisation's try-its (src/sandbox/process-cache.ts). */
  sandboxProcesses?: SandboxProcessCache;
}

/** Each method is async, so that a synchronous throw becomes a rejection as it is over HTTPS. */
export function airService(
  { data, runner, budget, streaming, sandboxProcesses }: AirServiceParts,
  config: Readonly<Pick<OpenCloakConfig, 'sandbox' | 'cloak'>>,
): AirService {
  return {
    validateTask: async (orgId, spec) => runner.validate(orgId, spec),
    checkRunCap: async (orgId) => runner.checkRunCap(orgId),
    runTask: (orgId, spec, control, access) => runner.run(orgId, spec, control, access),
    previewTask: (orgId, spec, control, access) => runner.preview(orgId, spec, control, access),
    budgetState: async (orgId, limit) => budget?.state(orgId, limit),
    setStreamingTask: async (orgId, taskKey, spec) => streaming.register(orgId, taskKey, spec),
    streamingReport: async (orgId, taskKey, userExpireSeconds) =>
      streaming.report(orgId, taskKey, userExpireSeconds),

    tryTask: (orgId, spec, users) =>
      tryTask(
        runner,
        {
          limits: { ...config.sandbox },
          timeoutSeconds: config.cloak.tryTimeoutSeconds,
          ...(sandboxProcesses ? { processCache: sandboxProcesses } : {}),
        },
        orgId,
        spec,
        users,
      ),

    listTables: async (orgId) => data.listTables(orgId),
    defineTable: async (orgId, definition) => data.createTable(orgId, definition),
    alterTable: async (orgId, name, change) => data.alterTable(orgId, name, change),
    dropTable: async (orgId, name) => data.dropTable(orgId, name),

    async userCounts(orgId) {
      const counts: Array<{ table: string; users: number | null }> = [];
      for (const { name } of await data.listTables(orgId)) {
        // An anonymized run of one bucket that every user with rows reports (sticky noise, the
        // low-count filter), outside the participation budget: its code is the cloak's, not an
        // analyst's, and its user set is whoever data owners uploaded, which no analyst chooses.
        // Budgeted, every view of the Tables page would spend a budget notice (a run of the
        // period) and show a table low, or "too few", once its users had spent their budget.
        const result = await runner.run(
          orgId,
          {
            code: `report_property(${JSON.stringify(USERS_LABEL)}, '')`,
            prefetch: [{ table: name }],
          },
          {},
          'trusted',
        );
        const bucket = result.buckets.find((b) => b.label === USERS_LABEL);
        counts.push({ table: name, users: bucket ? bucket.count : null });
      }
      return counts;
    },
  };
}
