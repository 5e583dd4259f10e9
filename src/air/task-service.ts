// Creating and running tasks on the air side: validation via the cloak, results stored as published.
import { AppError } from '../errors/index.ts';
import type { BudgetPreview, TaskLanguage, TaskSpec } from '../shared/index.ts';
import { auditTrustedRun, NOBODY, runAccessLevel, type TaskActor } from './access-levels.ts';
import type { CloakPort } from './cloak-port.ts';
import { checkSchedule } from './schedule.ts';
import { TaskRuns } from './task-runs.ts';
import {
  TASK_TYPES,
  type AirStore,
  type NewTask,
  type StoredResult,
  type TaskRecord,
  type TaskType,
} from './store/index.ts';

export interface TaskServiceOptions {
  /** Whole-run limit of runs nobody waits for (cloak.backgroundTaskTimeoutSeconds). */
  backgroundTimeoutSeconds: number;
}

export class TaskService {
  readonly runs: TaskRuns;
  /** The streaming tasks the cloak was told about, by token, and the version it got. */
  readonly #streaming = new Map<string, { orgId: string; updatedAt: number }>();

  constructor(
    private readonly store: AirStore,
    private readonly cloak: CloakPort,
    private readonly options: TaskServiceOptions = { backgroundTimeoutSeconds: 21_600 },
  ) {
    // The run cap is the cloak's, one counter for every API (cloak/run-cap.ts).
    this.runs = new TaskRuns((orgId) => cloak.checkRunCap(orgId), store.runs);
  }

  /** `by` becomes the task's saver, whose level caps every run of it (access-levels.ts). */
  async create(orgId: string, task: NewTask, by: TaskActor = NOBODY): Promise<TaskRecord> {
    checkType(task.type);
    const schedule = checkSchedule(task.type, task.schedule);
    const language = task.language ?? 'javascript';
    checkLanguage(task.type, language);
    const checked = await this.cloak.validateTask(orgId, {
      code: task.code,
      prefetch: task.prefetch,
      language,
    });
    const created = await this.store.tasks.create(orgId, {
      ...task,
      schedule,
      language,
      compiledCode: language === 'typescript' ? checked.code : null,
      prefetch: checked.prefetch,
      savedBy: by.personId,
    });
    await this.#syncStreaming(undefined, created);
    return created;
  }

  /** Validates like create: a change to code or prefetch is checked by the cloak before it is saved. */
  async update(
    orgId: string,
    ref: string,
    change: Partial<NewTask>,
    by: TaskActor = NOBODY,
  ): Promise<TaskRecord> {
    const task = await this.find(orgId, ref);
    if (change.type !== undefined) checkType(change.type);
    const type = change.type ?? task.type;
    // A task that stops being periodic drops its schedule; one that becomes periodic needs one.
    const schedule = checkSchedule(
      type,
      change.schedule !== undefined ? change.schedule : type === 'periodic' ? task.schedule : null,
    );
    const language = change.language ?? task.language;
    checkLanguage(type, language);
    const next = {
      code: change.code ?? task.code,
      // A sql task's prefetch is derived from its query, so a changed query brings its own.
      prefetch: change.prefetch ?? (language === 'sql' ? [] : task.prefetch),
      language,
    };
    // Checked again even when only the prefetch changed: TypeScript is typed by the tables.
    const checked = await this.cloak.validateTask(orgId, next);
    const updated = await this.store.tasks.update(orgId, task.id, {
      ...change,
      schedule,
      language,
      compiledCode: language === 'typescript' ? checked.code : null,
      ...(change.prefetch !== undefined || language === 'sql'
        ? { prefetch: checked.prefetch }
        : {}),
      // Any save, even a rename or a new schedule, makes the saver answerable for the task.
      savedBy: by.personId,
    });
    await this.#syncStreaming(task, updated);
    return updated;
  }

  async delete(orgId: string, ref: string): Promise<void> {
    const task = await this.find(orgId, ref);
    await this.store.tasks.delete(orgId, task.id);
    await this.#syncStreaming(task, undefined);
  }

  /**
   * Brings the cloak's streaming tasks in line with the store: at start-up, and then on every
   * scheduler tick, so that a task created, changed or deleted by another process (the CLI) is
   * picked up too. A task that no longer validates (a table was dropped) is reported and skipped.
   */
  async syncStreamingTasks(): Promise<Array<{ taskId: number; error: string }>> {
    const failures: Array<{ taskId: number; error: string }> = [];
    const current = new Map((await this.store.tasks.ofType('streaming')).map((t) => [t.token, t]));
    for (const [token, registered] of this.#streaming) {
      if (current.has(token)) continue;
      await this.cloak.setStreamingTask(registered.orgId, token, null);
      this.#streaming.delete(token);
    }
    for (const [token, task] of current) {
      if (this.#streaming.get(token)?.updatedAt === task.updatedAt) continue;
      try {
        await this.#syncStreaming(undefined, task);
      } catch (error) {
        failures.push({ taskId: task.id, error: (error as Error).message });
      }
    }
    return failures;
  }

  /** Publishes one report of a streaming task: its users' latest properties, anonymized. */
  async publishStreaming(task: TaskRecord, now = Date.now()): Promise<StoredResult> {
    if (task.type !== 'streaming' || !task.schedule || !('user_expire_interval' in task.schedule)) {
      throw new AppError('INVALID_PARAMETER', {
        detail: `Task "${task.name}" is not a streaming task.`,
      });
    }
    let result;
    try {
      result = await this.cloak.streamingReport(
        task.orgId,
        task.token,
        task.schedule.user_expire_interval,
      );
    } catch (error) {
      // A cloak on another host that restarted has forgotten the task: the next sync tells it
      // again (its per-user state is in its database), and this report is tried at the next tick.
      this.#streaming.delete(task.token);
      throw error;
    }
    return this.store.results.publish(task.id, task.codeVersion, result, now);
  }

  /** The cloak runs streaming tasks by themselves; it learns of each change here. */
  async #syncStreaming(
    before: TaskRecord | undefined,
    after: TaskRecord | undefined,
  ): Promise<void> {
    if (after?.type === 'streaming') {
      await this.cloak.setStreamingTask(after.orgId, after.token, runSpec(after));
      this.#streaming.set(after.token, { orgId: after.orgId, updatedAt: after.updatedAt });
    } else if (before?.type === 'streaming') {
      await this.cloak.setStreamingTask(before.orgId, before.token, null);
      this.#streaming.delete(before.token);
    }
  }

  async find(orgId: string, ref: string): Promise<TaskRecord> {
    const task = await this.store.tasks.byIdOrToken(orgId, ref);
    if (!task) throw new AppError('TASK_NOT_FOUND', { task: ref });
    return task;
  }

  /** A run that fails as a whole throws and publishes nothing; a completed run publishes one result. */
  async runBatch(orgId: string, ref: string, by: TaskActor = NOBODY): Promise<StoredResult> {
    return (await this.startBatch(orgId, ref, { background: false, by })).finished;
  }

  /**
   * Starts a run that reports progress in `runs` and can be cancelled there. A background run
   * (nobody waits for its answer) gets the longer background time limit.
   */
  async startBatch(orgId: string, ref: string, options: RunOptions) {
    const task = await this.find(orgId, ref);
    if (task.type !== 'batch') {
      throw new AppError('TASK_NOT_BATCH', { name: task.name, type: task.type });
    }
    return this.startRun(task, options);
  }

  /**
   * A cost preview of the task's next run (batch or periodic): the run it would be, at the level
   * it would have, settled against the budget and rolled back. It counts as a run in progress
   * while it works, and publishes nothing. A trusted run would not be charged: the cloak says so
   * without running anything, so there is nothing to audit.
   */
  async preview(orgId: string, ref: string, options: PreviewOptions = {}): Promise<BudgetPreview> {
    const task = await this.find(orgId, ref);
    if (task.type === 'streaming') {
      throw new AppError('TASK_NOT_PREVIEWABLE', { name: task.name });
    }
    const access = await runAccessLevel(this.store, task, options.by ?? NOBODY);
    const { finished } = await this.runs.startPreview(task.orgId, task.id, (control) =>
      this.cloak.previewTask(task.orgId, runSpec(task), control, access),
    );
    return finished;
  }

  /**
   * Any task type: the scheduler uses this for periodic tasks. The run's access level is decided
   * here, from air.db as it is now; a trusted run is audited with its code before it starts.
   */
  async startRun(task: TaskRecord, options: RunOptions) {
    const by = options.by ?? NOBODY;
    const access = await runAccessLevel(this.store, task, by);
    return this.runs.start(task.orgId, task.id, async (control) => {
      if (access === 'trusted') await auditTrustedRun(this.store, task, by, options.via ?? 'air');
      const result = await this.cloak.runTask(
        task.orgId,
        runSpec(task),
        options.background
          ? { ...control, timeoutSeconds: this.options.backgroundTimeoutSeconds }
          : control,
        access,
      );
      return this.store.results.publish(task.id, task.codeVersion, result);
    });
  }
}

export interface PreviewOptions {
  /** Who asks: the run it previews would be at the lower of their level and the saver's. */
  by?: TaskActor;
}

export interface RunOptions {
  /** Nobody waits for its answer: the longer background time limit. */
  background: boolean;
  /** Who starts it; without one the run is untrusted. */
  by?: TaskActor;
  /** Where it was started, for the audit log of a trusted run ("site", "web API", ...). */
  via?: string;
}

function checkType(type: string): void {
  if (!(TASK_TYPES as readonly string[]).includes(type)) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `"${type}" is not a task type. Use one of: ${TASK_TYPES.join(', ')}.`,
    });
  }
}

/** What the cloak runs: the JavaScript (TypeScript's transpilation), or the sql task's query. */
export function runSpec(task: TaskRecord): TaskSpec {
  const code = task.compiledCode ?? task.code;
  return task.language === 'sql'
    ? { code, prefetch: task.prefetch, language: 'sql' }
    : { code, prefetch: task.prefetch };
}

/**
 * Streaming tasks keep per-user state and run per arriving user in the sandbox; a sql task
 * counts users over the whole store, so it is batch or periodic.
 */
function checkLanguage(type: TaskType, language: TaskLanguage): void {
  if (type === 'streaming' && language === 'sql') {
    throw new AppError('INVALID_BODY', {
      detail:
        'a streaming task is written in JavaScript or TypeScript; a sql task is "batch" or "periodic".',
    });
  }
}
