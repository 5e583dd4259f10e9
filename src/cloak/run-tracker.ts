// The runs in progress in this process: their ids and log lines, what metrics hear of them, and their stop at shutdown.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../errors/index.ts';
import {
  SILENT_LOG,
  type OpsLog,
  type RunControl,
  type RunEvents,
  type RunKind,
  type RunOutcome,
} from '../shared/index.ts';

/** Follow-up work (deliveries of async results) gets at least this long after the runs stop. */
const FOLLOW_UP_GRACE_MS = 5000;

export interface DrainReport {
  /** Runs that finished by themselves while the server drained. */
  finished: number;
  /** Runs cancelled at the deadline, each failed with TASK_RUN_SHUTDOWN. */
  cancelled: number;
  /** Follow-up work (async result deliveries) still under way when the drain gave up on it. */
  abandoned: number;
}

/**
 * Every run gets an id (the caller's, or a random UUID: unique across servers, unlike a counter)
 * that goes into each log line about it. A shutdown first refuses new runs, then waits for those
 * in progress until its deadline, then cancels the rest through the runs' own abort signal, so a
 * cancelled run stops its sandbox processes and publishes nothing, as a cancel by its analyst does.
 */
export class RunTracker {
  #accepting = true;
  #drainSeconds = 0;
  readonly #shutdown = new AbortController();
  readonly #runs = new Set<Promise<unknown>>();
  readonly #followUps = new Set<Promise<unknown>>();
  #events: RunEvents = {};
  #log: OpsLog = SILENT_LOG;

  /**
   * Who hears of runs: the server's metrics and log. Set once the platform has them (CLI commands
   * that run tasks on the data directory have neither).
   */
  watch(events: RunEvents, log: OpsLog): void {
    this.#events = events;
    this.#log = log;
  }

  /** The watcher's hooks, for what the runner itself reports (users, budget, release waits). */
  get events(): RunEvents {
    return this.#events;
  }

  /** Throws SERVER_DRAINING once a shutdown has begun. */
  checkAccepting(): void {
    if (!this.#accepting) throw new AppError('SERVER_DRAINING');
  }

  get accepting(): boolean {
    return this.#accepting;
  }

  /** Runs in progress, previews included. */
  get running(): number {
    return this.#runs.size;
  }

  /** Runs `work` as a tracked run; its control carries the run id and a signal that shutdown aborts. */
  track<T>(
    kind: RunKind,
    orgId: string,
    control: RunControl,
    work: (control: RunControl, log: OpsLog) => Promise<T>,
  ): Promise<T> {
    this.checkAccepting();
    const runId = control.runId ?? randomUUID();
    const log = this.#log.child({ runId });
    const signal = control.signal
      ? AbortSignal.any([control.signal, this.#shutdown.signal])
      : this.#shutdown.signal;
    quietly(() => this.#events.started?.({ runId, kind }));
    log.info({ orgId, kind }, 'run started');
    const running = work({ ...control, runId, signal }, log).catch((error: unknown) => {
      // Cancelled by the shutdown rather than by its analyst: say so, and how long it was given.
      const byShutdown = this.#shutdown.signal.aborted && !control.signal?.aborted;
      throw byShutdown && isCode(error, 'TASK_RUN_CANCELLED')
        ? new AppError('TASK_RUN_SHUTDOWN', { seconds: this.#drainSeconds })
        : error;
    });
    const settled = running.then(
      () => this.#finished(runId, kind, orgId, log, 'completed'),
      (error: unknown) => this.#finished(runId, kind, orgId, log, outcomeOf(error), error),
    );
    this.#runs.add(settled);
    void settled.finally(() => this.#runs.delete(settled));
    return running;
  }

  /** Work that follows a run (delivering its result): a shutdown waits for it too, within limits. */
  follow(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined);
    this.#followUps.add(settled);
    void settled.finally(() => this.#followUps.delete(settled));
  }

  /**
   * Refuses new runs, waits up to `seconds` for those in progress, cancels the rest and waits for
   * them to stop, then gives follow-up work what is left of the deadline (at least a few seconds).
   */
  async drain(seconds: number): Promise<DrainReport> {
    this.#accepting = false;
    this.#drainSeconds = seconds;
    const deadline = Date.now() + seconds * 1000;
    const before = this.#runs.size;
    const inTime = await Promise.race([
      Promise.allSettled([...this.#runs]).then(() => true),
      sleep(seconds * 1000, false, { ref: false }),
    ]);
    const cancelled = inTime ? 0 : this.#runs.size;
    if (!inTime) {
      this.#log.warn({ runs: cancelled, drainSeconds: seconds }, 'cancelling runs at shutdown');
      this.#shutdown.abort();
      await Promise.allSettled([...this.#runs]);
    }
    const waitMs = Math.max(deadline - Date.now(), FOLLOW_UP_GRACE_MS);
    await Promise.race([
      Promise.allSettled([...this.#followUps]),
      sleep(waitMs, undefined, { ref: false }),
    ]);
    return { finished: before - cancelled, cancelled, abandoned: this.#followUps.size };
  }

  #finished(
    runId: string,
    kind: RunKind,
    orgId: string,
    log: OpsLog,
    outcome: RunOutcome,
    error?: unknown,
  ): void {
    quietly(() => this.#events.finished?.({ runId, kind, outcome }));
    if (outcome === 'completed') return log.info({ orgId, kind, outcome }, 'run finished');
    if (error instanceof AppError) {
      return log.warn(
        { orgId, kind, outcome, code: error.code, error: error.message },
        'run failed',
      );
    }
    log.error({ orgId, kind, outcome, err: error }, 'run failed');
  }
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof AppError && error.code === code;
}

function outcomeOf(error: unknown): RunOutcome {
  if (isCode(error, 'TASK_RUN_SHUTDOWN')) return 'shutdown';
  if (isCode(error, 'TASK_RUN_CANCELLED')) return 'cancelled';
  if (isCode(error, 'TASK_RUN_TIMEOUT')) return 'timeout';
  return 'failed';
}

/** A watcher that throws must not fail the run it watches. */
function quietly(call: () => void): void {
  try {
    call();
  } catch {
    // Metrics are best effort; the run's own log line still says what happened.
  }
}
