// Runs in progress and recently finished: progress and cancellation across servers; the cap is the cloak's.
import { AppError } from '../errors/index.ts';
import type { RunControl } from '../shared/index.ts';
import { randomToken } from './store/ids.ts';
import type { RunStore, TaskRun } from './store/index.ts';

export type { RunState, TaskRun } from './store/index.ts';

export interface TaskRunsOptions {
  /** How often this server writes its runs' heartbeat and looks for cancel requests. */
  heartbeatMs: number;
  /** A running run without a heartbeat for this long is shown as failed: its server stopped. */
  lostAfterMs: number;
}

const DEFAULTS: TaskRunsOptions = { heartbeatMs: 1000, lostAfterMs: 60_000 };
/** Progress reaches the database at most this often per run (the API rounds it anyway). */
const PROGRESS_EVERY_MS = 1000;

/**
 * A run executes in this process (its sandbox work, or its shards' coordination) and is not
 * resumed after a restart: a run that was cut off has published nothing, and shows as failed
 * once its heartbeat stops. Its state is kept in the air store (RunStore), so that another API
 * server on the same database answers for it and passes a cancel on to it.
 */
export class TaskRuns {
  /** Runs executing here: the live record (fresher than the database) and the abort switch. */
  readonly #local = new Map<string, { run: TaskRun; controller: AbortController }>();
  readonly #options: TaskRunsOptions;
  #timer: NodeJS.Timeout | undefined;

  /**
   * `checkCap` throws TOO_MANY_RUNS when the organisation is at its cap: the cloak's one counter
   * for every API, which counts a cancelled run until its sandbox work has stopped.
   */
  constructor(
    private readonly checkCap: (orgId: string) => Promise<void>,
    private readonly store: RunStore,
    options: Partial<TaskRunsOptions> = {},
  ) {
    this.#options = { ...DEFAULTS, ...options };
  }

  /**
   * Starts `execute` unless the organisation is at its cap. `finished` settles with the run; it
   * never rejects unhandled, so a caller that does not wait may ignore it.
   */
  start<T extends { id: number }>(
    orgId: string,
    taskId: number,
    execute: (control: RunControl) => Promise<T>,
  ): Promise<{ run: TaskRun; finished: Promise<T> }> {
    return this.#start(orgId, taskId, 'run', execute, (result) => result.id);
  }

  /** A cost preview counts as a run in progress (it works the sandbox as hard) but publishes nothing. */
  startPreview<T>(
    orgId: string,
    taskId: number,
    execute: (control: RunControl) => Promise<T>,
  ): Promise<{ run: TaskRun; finished: Promise<T> }> {
    return this.#start(orgId, taskId, 'preview', execute, () => null);
  }

  async #start<T>(
    orgId: string,
    taskId: number,
    kind: TaskRun['kind'],
    execute: (control: RunControl) => Promise<T>,
    resultIdOf: (result: T) => number | null,
  ): Promise<{ run: TaskRun; finished: Promise<T> }> {
    await this.checkCap(orgId);
    const controller = new AbortController();
    const run: TaskRun = {
      id: randomToken(),
      kind,
      orgId,
      taskId,
      state: 'running',
      progress: { done: 0, total: 0 },
      startedAt: Date.now(),
      finishedAt: null,
      resultId: null,
      error: null,
    };
    // Recorded before it starts: a run no server can see could not be followed or cancelled.
    await this.store.insert(run);
    this.#local.set(run.id, { run, controller });
    this.#beat();
    let progressWritten = 0;
    const finished = execute({
      runId: run.id,
      signal: controller.signal,
      onProgress: (progress) => {
        run.progress = { ...progress };
        if (Date.now() - progressWritten < PROGRESS_EVERY_MS) return;
        progressWritten = Date.now();
        void this.store.progress(run.id, run.progress).catch(() => undefined);
      },
    }).then(
      async (result) => {
        run.resultId = resultIdOf(result);
        await this.#finish(run, 'completed');
        return result;
      },
      async (error: unknown) => {
        const cancelled = error instanceof AppError && error.code === 'TASK_RUN_CANCELLED';
        if (!cancelled) run.error = error instanceof AppError ? error.message : 'internal error';
        await this.#finish(run, cancelled ? 'cancelled' : 'failed');
        throw error;
      },
    );
    finished.catch(() => undefined);
    return { run, finished };
  }

  async get(orgId: string, taskId: number, runId: string): Promise<TaskRun | undefined> {
    const run =
      this.#local.get(runId)?.run ?? (await this.store.get(runId, this.#options.lostAfterMs));
    return run && run.orgId === orgId && run.taskId === taskId ? run : undefined;
  }

  /** Newest first. */
  async list(orgId: string, taskId: number): Promise<TaskRun[]> {
    const stored = await this.store.list(orgId, taskId, this.#options.lostAfterMs);
    return stored.map((run) => this.#local.get(run.id)?.run ?? run);
  }

  /**
   * Stops the run at once (its sandbox processes are killed); it then publishes nothing. A run
   * another server executes is asked to stop, and stops at that server's next heartbeat.
   */
  async cancel(orgId: string, taskId: number, runId: string): Promise<TaskRun | undefined> {
    const run = await this.get(orgId, taskId, runId);
    if (run?.state !== 'running') return run;
    const local = this.#local.get(runId);
    if (local) local.controller.abort();
    else await this.store.requestCancel(runId);
    return run;
  }

  /** Stops the heartbeat (the server is closing; its runs end with it). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #finish(run: TaskRun, state: TaskRun['state']): Promise<void> {
    run.state = state;
    run.finishedAt = Date.now();
    // The database learns first, then this process forgets: a reader never finds neither.
    await this.store.finish(run).catch(() => undefined);
    this.#local.delete(run.id);
    if (this.#local.size === 0) this.close();
  }

  /** While runs execute here: heartbeat them, and abort those another server asked to stop. */
  #beat(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      const ids = [...this.#local.keys()];
      void this.store.heartbeat(ids).then(
        (cancelled) => cancelled.forEach((id) => this.#local.get(id)?.controller.abort()),
        () => undefined,
      );
    }, this.#options.heartbeatMs);
    this.#timer.unref();
  }
}
