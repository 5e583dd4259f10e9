// A worker's loop over the shard queue: one job at a time, its outcome recorded so that a lost connection neither ends the process nor loses a finished shard.
import { setTimeout as sleep } from 'node:timers/promises';
import type PgBoss from 'pg-boss';
import { isConnectionLoss, RECONNECT_GRACE_MS } from './connection-loss.ts';

/*
 * Why not pg-boss's own `work`: in pg-boss 10 it completes or fails a job without awaiting the
 * call (manager.js, `watch`), so when PostgreSQL cuts the connection at that moment (a restart)
 * the call rejects unhandled and Node ends the worker; the shard is then run again only after
 * its expiry, by another worker if there is one. Here the outcome is awaited and retried on new
 * connections. A job whose outcome could not be recorded is not lost either: it expires
 * (queue.shardTimeoutSeconds) and is retried, as when a worker dies.
 */

export interface JobLoopOptions {
  /** How long to wait before looking again when the queue had no job (queue.pollingSeconds). */
  pollingSeconds: number;
  /** A failure of the loop itself (the queue unreachable); the loop goes on. */
  onError?(error: unknown): void;
}

export interface JobLoop {
  /**
   * Takes no new job, and resolves once the job in hand (if any) is done and recorded, or after
   * `graceMs`: the job is then failed at once, so that the queue retries it elsewhere without
   * waiting for its expiry, and whatever its handler does later is never recorded.
   */
  stop(graceMs: number): Promise<void>;
}

/** A job's outcome as the queue keeps it: what the handler returned, or its error's message. */
type Outcome = { ok: true; output: object } | { ok: false; output: { message: string } };

export function startJobLoop<T extends object>(
  boss: PgBoss,
  queue: string,
  options: JobLoopOptions,
  handler: (job: PgBoss.JobWithMetadata<T>) => Promise<object>,
): JobLoop {
  const stopping = new AbortController();
  /** The job in hand, and whether it was given up by `stop` (then its outcome is not recorded). */
  let current: string | undefined;
  let abandoned = false;
  const pause = (ms: number) =>
    sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined);
  const report = (error: unknown) => options.onError?.(error);

  const record = async (id: string, outcome: Outcome): Promise<void> => {
    const lostAt = Date.now();
    while (!abandoned) {
      try {
        if (outcome.ok) await boss.complete(queue, id, outcome.output);
        else await boss.fail(queue, id, outcome.output);
        return;
      } catch (error) {
        report(error);
        if (!isConnectionLoss(error) || Date.now() - lostAt >= RECONNECT_GRACE_MS) return;
        await sleep(options.pollingSeconds * 1000);
      }
    }
  };

  const loop = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      let job: PgBoss.JobWithMetadata<T> | undefined;
      try {
        // With its metadata: a handler may need to know which attempt this is.
        [job] = await boss.fetch<T>(queue, { batchSize: 1, includeMetadata: true });
      } catch (error) {
        report(error);
      }
      if (job === undefined) {
        await pause(options.pollingSeconds * 1000);
        continue;
      }
      current = job.id;
      let outcome: Outcome;
      try {
        outcome = { ok: true, output: await handler(job) };
      } catch (error) {
        // The message only: the coordinator shows it (RUN_SHARD_FAILED); a stack stays here.
        outcome = { ok: false, output: { message: (error as Error).message } };
      }
      await record(job.id, outcome);
      current = undefined;
    }
  };
  const running = loop();
  return {
    async stop(graceMs) {
      stopping.abort();
      const grace = new AbortController();
      const finished = await Promise.race([
        running.then(() => true),
        sleep(graceMs, false, { signal: grace.signal }).catch(() => true),
      ]);
      grace.abort();
      if (finished || current === undefined) return;
      abandoned = true;
      const message = 'the worker stopped before it finished the shard';
      await boss.fail(queue, current, { message }).catch(report);
    },
  };
}
