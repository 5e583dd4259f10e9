// A graceful stop in order: refuse new work, drain runs within the deadline, stop background work, close servers and stores.
import type { OpsLog } from '../shared/index.ts';

/** What each part of the platform gives the shutdown; each step is awaited in this order. */
export interface ShutdownSteps {
  /** /readyz turns 503 and no new run starts (SERVER_DRAINING). */
  refuseNewWork(): void;
  /** Periodic runs and streaming passes stop starting; a pass under way finishes. */
  stopBackground(): Promise<void>;
  /** Waits for runs in progress up to the deadline, then cancels the rest and waits for them. */
  drainRuns(seconds: number): Promise<{ finished: number; cancelled: number; abandoned: number }>;
  /** Servers stop listening and close their connections; requests under way are answered. */
  closeServers(): Promise<void>;
  /** Databases and the queue closed, the data directory's lock released. */
  closeStores(): Promise<void>;
}

/**
 * Runs the steps once, logging each, so that an operator reading the log of a stopped container
 * sees whether runs were drained or cancelled. A second call (a second signal) joins the first.
 */
export function gracefulShutdown(
  steps: ShutdownSteps,
  drainSeconds: number,
  log: OpsLog,
): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      log.info({ drainSeconds }, 'shutting down: no new runs, draining those in progress');
      steps.refuseNewWork();
      await steps.stopBackground();
      const report = await steps.drainRuns(drainSeconds);
      log.info(report, 'runs drained');
      if (report.abandoned > 0) {
        log.warn({ deliveries: report.abandoned }, 'result deliveries still under way at exit');
      }
      await steps.closeServers();
      await steps.closeStores();
      log.info({}, 'stopped');
    })();
    return stopping;
  };
}
