// Server mode's async deliveries: each result posted to its return_url from a pg-boss job, so that any API server delivers it.
import type PgBoss from 'pg-boss';
import { deliverResult, type DeliveryHandoff, type ResultDelivery } from '../result-delivery.ts';
import { startJobLoop, type JobLoop } from './job-loop.ts';
import { DELIVERY_QUEUE, type QueueSettings } from './queue.ts';

/*
 * Why a queue. In-process, a delivery and its retries (seconds to minutes of backoff) live in the
 * memory of the server that ran the task: a restart, a deploy or a crash in that window loses
 * the result, and the caller never hears. Here the answer is a job as soon as the run ends; each
 * attempt is one job attempt, retried by pg-boss with exponential backoff on whichever server
 * takes it next. The job holds the caller's QueryAuthToken until it is delivered or fails; jobs
 * are deleted an hour after they end (openQueue's deleteAfterHours), like shard jobs.
 */

/** A delivery as the job carries it (JSON). */
interface DeliveryJob {
  url: string;
  authToken: string;
  body: unknown;
  runId: string;
}

export interface DeliveryRetries {
  /** Total attempts, the first included (cloak.deliveryAttempts). */
  attempts: number;
  /** Wait before the second attempt; pg-boss counts whole seconds, so at least 1 s. */
  firstDelayMs: number;
}

/** Hands deliveries to the queue (the API server's side of DeliveryHandoff). */
export class DeliveryQueue implements DeliveryHandoff {
  constructor(
    private readonly boss: PgBoss,
    private readonly retries: Readonly<DeliveryRetries>,
  ) {}

  async send(delivery: ResultDelivery): Promise<void> {
    const job: DeliveryJob = {
      url: delivery.url.toString(),
      authToken: delivery.authToken,
      body: delivery.body,
      runId: delivery.runId,
    };
    const id = await this.boss.send(DELIVERY_QUEUE, job, {
      retryLimit: Math.max(0, this.retries.attempts - 1),
      retryDelay: Math.max(1, Math.round(this.retries.firstDelayMs / 1000)),
      retryBackoff: true,
    });
    if (id === null) throw new Error('pg-boss refused a delivery job');
  }
}

/** What a delivery loop tells its server's log: never the token, only the receiver's host. */
export interface DeliveryEvents {
  /** The last attempt failed: the result is not delivered. */
  gaveUp(event: { runId: string; host: string; attempts: number; error: string }): void;
  /** The queue itself failed (PostgreSQL unreachable); the loop goes on. */
  queueError?(error: unknown): void;
}

/**
 * Every API server in server mode runs one: it takes delivery jobs one at a time and makes one
 * attempt each, a failure going back to the queue for its next, later attempt.
 */
export function startDeliveryLoop(
  boss: PgBoss,
  settings: Readonly<QueueSettings>,
  events: DeliveryEvents,
): JobLoop {
  return startJobLoop<DeliveryJob>(
    boss,
    DELIVERY_QUEUE,
    {
      pollingSeconds: settings.pollingSeconds,
      ...(events.queueError ? { onError: events.queueError } : {}),
    },
    async (job) => {
      const { url, authToken, body, runId } = job.data;
      const target = new URL(url);
      const outcome = await deliverResult(target, authToken, body, {
        attempts: 1,
        firstDelayMs: 0,
        runId,
      });
      if (outcome.delivered) return { delivered: true };
      const error = outcome.lastError ?? 'no answer';
      if (job.retryCount >= job.retryLimit) {
        events.gaveUp({ runId, host: target.host, attempts: job.retryCount + 1, error });
      }
      throw new Error(`the receiver at ${target.host} answered ${error}`);
    },
  );
}
