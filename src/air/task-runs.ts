// Runs in progress and recently finished: progress and cancellation; the cap is the cloak's.
import { AppError } from '../errors/index.ts';
import type { RunControl, RunProgress } from '../shared/index.ts';
import { randomToken } from './store/ids.ts';

export type RunState = 'running' | 'completed' | 'failed' | 'cancelled';

export interface TaskRun {
  id: string;
  /** A run that publishes, or a cost preview that publishes nothing (its result_id stays null). */
  kind: 'run' | 'preview';
  orgId: string;
  taskId: number;
  state: RunState;
  progress: RunProgress;
  startedAt: number;
  finishedAt: number | null;
  /** The published result of a completed run. */
  resultId: number | null;
  /** Why a failed run failed (the error message the API would have answered with). */
  error: string | null;
}

/** Finished runs kept per organisation for GET .../runs; older ones are forgotten first. */
const FINISHED_KEPT = 200;

/**
 * In memory on purpose: a run lives in this process, so after a restart there is nothing to
 * resume, and a run that was cut off has published nothing.
 */
export class TaskRuns {
  readonly #runs = new Map<string, { run: TaskRun; controller: AbortController }>();

  /**
   * `checkCap` throws TOO_MANY_RUNS when the organisation is at its cap: the cloak's one counter
   * for every API, which counts a cancelled run until its sandbox work has stopped.
   */
  constructor(private readonly checkCap: (orgId: string) => Promise<void>) {}

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
    this.#runs.set(run.id, { run, controller });
    const finished = execute({
      runId: run.id,
      signal: controller.signal,
      onProgress: (progress) => (run.progress = { ...progress }),
    }).then(
      (result) => {
        run.resultId = resultIdOf(result);
        this.#finish(run, 'completed');
        return result;
      },
      (error: unknown) => {
        const cancelled = error instanceof AppError && error.code === 'TASK_RUN_CANCELLED';
        this.#finish(run, cancelled ? 'cancelled' : 'failed');
        if (!cancelled) run.error = error instanceof AppError ? error.message : 'internal error';
        throw error;
      },
    );
    finished.catch(() => undefined);
    return { run, finished };
  }

  get(orgId: string, taskId: number, runId: string): TaskRun | undefined {
    const entry = this.#runs.get(runId);
    return entry && entry.run.orgId === orgId && entry.run.taskId === taskId
      ? entry.run
      : undefined;
  }

  /** Newest first. */
  list(orgId: string, taskId: number): TaskRun[] {
    return this.#list(orgId)
      .filter((r) => r.taskId === taskId)
      .reverse();
  }

  /** Stops the run at once (its sandbox processes are killed); it then publishes nothing. */
  cancel(orgId: string, taskId: number, runId: string): TaskRun | undefined {
    const run = this.get(orgId, taskId, runId);
    if (run?.state === 'running') this.#runs.get(runId)!.controller.abort();
    return run;
  }

  #list(orgId: string): TaskRun[] {
    return [...this.#runs.values()].map((e) => e.run).filter((r) => r.orgId === orgId);
  }

  #finish(run: TaskRun, state: RunState): void {
    run.state = state;
    run.finishedAt = Date.now();
    const finished = this.#list(run.orgId).filter((r) => r.state !== 'running');
    for (const old of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT))) {
      this.#runs.delete(old.id);
    }
  }
}
