// The coordinator's half of a distributed run: one shard job per shard, wait for all, replay their users.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type PgBoss from 'pg-boss';
import type { UserKey } from '../../anonymizer/index.ts';
import { AppError } from '../../errors/index.ts';
import { isConnectionLoss, RECONNECT_GRACE_MS } from './connection-loss.ts';
import type { SandboxLimits, UserOutcome } from '../../sandbox/index.ts';
import type { PrefetchSpec, TaskSpec } from '../../shared/index.ts';
import { describeQueue, SHARD_QUEUE, type QueueSettings, type ShardJob } from './queue.ts';
import { replayPartial } from './shard-partial.ts';

/** What the task runner hands a distributed run: the same hooks as its in-process feed, by key. */
export interface KeyFeed {
  count(key: UserKey, outcome: UserOutcome): void;
  /** Throws when the run was cancelled or is past its deadline. */
  checkRun(): void;
  onUsers?(users: number): void;
  onStop?(halt: () => void): void;
}

/** A script task's run, as the coordinator sends it out. */
export interface ShardRun {
  orgId: string;
  task: TaskSpec;
  limits: SandboxLimits;
  now: number;
}

/** Where TaskRunner sends a script task's users in server mode (distributed/README in index.ts). */
export interface ShardFeeder {
  feed(run: ShardRun, feed: KeyFeed): Promise<void>;
}

export interface CoordinatorOptions {
  settings: Readonly<QueueSettings>;
  /** Shard jobs per run; more shards than workers balances uneven shards. */
  shards: number;
}

/**
 * Phase one of the two phases (docs/server-mode.md): the workers run the sandbox and return each
 * of their users' buckets; nothing is counted until every shard has come back, and then the
 * shards are replayed in shard order into the run's one aggregator and budget collection, whose
 * settlement (phase two) stays in the coordinator, one transaction as in-process. A shard comes
 * back once: pg-boss completes a job once, and only completed jobs are read, so a retried shard
 * (its worker died or failed) is counted from its one completed attempt.
 */
export class ShardCoordinator implements ShardFeeder {
  constructor(
    private readonly boss: PgBoss,
    private readonly options: Readonly<CoordinatorOptions>,
  ) {}

  async feed(run: ShardRun, feed: KeyFeed): Promise<void> {
    const { settings, shards } = this.options;
    const runId = randomUUID();
    const ids: string[] = [];
    let halted = false;
    const cancelAll = () => {
      halted = true;
      // Best effort: a worker already on a shard finishes it, and its answer is never read.
      if (ids.length > 0) void this.boss.cancel(SHARD_QUEUE, ids).catch(() => undefined);
    };
    feed.onStop?.(cancelAll);
    try {
      for (let shard = 0; shard < shards; shard++) {
        const job: ShardJob = {
          runId,
          orgId: run.orgId,
          code: run.task.code,
          prefetch: run.task.prefetch as PrefetchSpec[],
          limits: run.limits,
          now: run.now,
          shard,
          shards,
        };
        // The job's id is chosen here: a send retried after a lost connection whose first
        // attempt had committed finds its job there (pg-boss answers null) instead of adding one.
        const id = randomUUID();
        await this.#queue(() =>
          this.boss.send(SHARD_QUEUE, job, {
            id,
            retryLimit: settings.shardRetries,
            retryDelay: 0,
            expireInSeconds: settings.shardTimeoutSeconds,
          }),
        );
        ids.push(id);
      }
      const partials = await this.#collect(ids, feed, () => halted);
      partials.forEach((partial) => replayPartial(partial, feed.count));
    } catch (error) {
      cancelAll();
      throw error;
    }
    // Completed shards hold user keys; they leave the database once counted.
    await this.boss.deleteJob(SHARD_QUEUE, ids).catch(() => undefined);
  }

  /** Polls until every shard has completed; a failed shard (retries used up) fails the run. */
  async #collect(ids: string[], feed: KeyFeed, halted: () => boolean): Promise<unknown[]> {
    const partials = new Array<unknown>(ids.length);
    const pending = new Set(ids.keys());
    const pollMs = this.options.settings.pollingSeconds * 1000;
    const check = () => {
      feed.checkRun();
      if (halted()) throw new AppError('TASK_RUN_CANCELLED');
    };
    while (pending.size > 0) {
      check();
      for (const shard of [...pending]) {
        const job = await this.#queue(
          () => this.boss.getJobById<ShardJob>(SHARD_QUEUE, ids[shard]!, { includeArchive: true }),
          check,
        );
        if (job === null)
          throw new AppError('RUN_SHARD_FAILED', { shard, detail: 'its job is gone' });
        if (job.state === 'completed') {
          partials[shard] = job.output;
          pending.delete(shard);
          const ran = (job.output as { ran?: unknown } | null)?.ran;
          feed.onUsers?.(typeof ran === 'number' ? ran : 0);
        } else if (job.state === 'failed' || job.state === 'cancelled') {
          throw new AppError('RUN_SHARD_FAILED', { shard, detail: failureOf(job) });
        }
      }
      if (pending.size > 0) await sleep(pollMs);
    }
    return partials;
  }

  /**
   * A queue call. A lost connection (PostgreSQL restarting) is retried on a new one, every poll,
   * for RECONNECT_GRACE_MS: the shards are rows that survive the restart, so the run resumes
   * where it was. Any other failure, or a database still away after that, fails the run with an
   * error saying so; nothing has been counted or published by then. `check` throws when the run
   * was cancelled or is past its deadline meanwhile.
   */
  async #queue<T>(call: () => Promise<T>, check: () => void = () => undefined): Promise<T> {
    let lostAt: number | undefined;
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (error instanceof AppError) throw error;
        lostAt ??= Date.now();
        if (!isConnectionLoss(error) || Date.now() - lostAt >= RECONNECT_GRACE_MS) {
          throw new AppError('RUN_QUEUE_UNAVAILABLE', {
            queue: describeQueue(this.options.settings.url),
            detail: (error as Error).message,
          });
        }
        await sleep(this.options.settings.pollingSeconds * 1000);
        // A run cancelled or past its deadline stops waiting for the database too.
        check();
      }
    }
  }
}

/** What a failed shard's last attempt said: its error's message, never a stack. */
function failureOf(job: PgBoss.JobWithMetadata<ShardJob>): string {
  const output = job.output as { message?: unknown; value?: { message?: unknown } } | null;
  const message = output?.message ?? output?.value?.message;
  const tries = `after ${job.retryCount + 1} attempt(s)`;
  return typeof message === 'string' ? `${message} (${tries})` : `${job.state} ${tries}`;
}
