// `opencloak worker`: takes shard jobs from the queue and runs them over the cloak's data (PostgreSQL, or cloak.db on the server's host).
import path from 'node:path';
import { AppError } from '../../errors/index.ts';
import { SandboxProcessCache, TASKS_PER_SANDBOX_PROCESS } from '../../sandbox/index.ts';
import { loadOrCreateNoiseSecret, noiseSecretPath } from '../noise-secret.ts';
import { startJobLoop } from './job-loop.ts';
import {
  describeQueue,
  openQueue,
  SHARD_QUEUE,
  type QueueSettings,
  type ShardJob,
} from './queue.ts';
import { runShard, shardPool, type ShardPool } from './shard-worker.ts';
import { openShardUsers, type ShardUserSource } from './shard-users.ts';

/** How long a finished run's sandbox processes wait for another of its shards. */
const IDLE_POOL_MS = 5000;
/** How long a stopping worker waits for the shard in hand before handing it back to the queue. */
const STOP_GRACE_MS = 30_000;

export interface WorkerOptions {
  settings: Readonly<QueueSettings>;
  /**
   * The installation's data directory: the noise secret (`secrets/noise.key`) and, without
   * `store`, cloak.db (then on the server's host).
   */
  dataDir: string;
  /**
   * `cloak.store`: a `postgres://` URL (the worker then needs no cloak.db and runs on any host
   * that reaches the database) or a SQLite file; absent, cloak.db in the data directory.
   */
  store?: string;
  /** Sandbox processes per shard. */
  processes: number;
  /** Told of every shard taken and finished, for the command's log lines. */
  onShard?(event: { runId: string; shard: number; shards: number; users?: number }): void;
  /**
   * The queue could not be reached or could not record a shard's outcome; the worker goes on
   * (job-loop.ts). Given the queue's address without its password and the error's message.
   */
  onQueueError?(event: { queue: string; message: string }): void;
}

export interface RunningWorker {
  /** Stops taking shards, waits for the one in hand, closes the queue and the data. */
  stop(): Promise<void>;
}

/**
 * The worker reads the cloak's data without writing: cloak.db through a read-only connection of
 * its own (WAL lets it read beside the server), PostgreSQL without migrating. It never creates
 * the noise secret: a fresh secret would give every user another key and the runs fresh noise.
 */
export async function startShardWorker(options: WorkerOptions): Promise<RunningWorker> {
  const file = noiseSecretPath(options.dataDir);
  const secret = loadOrCreateNoiseSecret(options.dataDir, () => {
    throw new AppError('WORKER_NOISE_SECRET_MISSING', { file });
  });
  const source = await openSource(options, secret);
  let boss;
  try {
    boss = await openQueue(options.settings);
  } catch (error) {
    await source.close();
    throw error;
  }
  // The last run's sandbox processes, for its next shard; another run's job replaces them, and
  // their idle processes go to `idleProcesses` for the organisation's next run.
  let kept: { runId: string; pool: ShardPool } | undefined;
  const idleProcesses = new SandboxProcessCache({
    maxIdle: options.processes,
    idleMs: IDLE_POOL_MS,
    maxTasks: TASKS_PER_SANDBOX_PROCESS,
  });
  const release = async (failed = false) => {
    const old = kept;
    kept = undefined;
    await (failed ? old?.pool.dispose() : old?.pool.release());
  };
  let idle: NodeJS.Timeout | undefined;
  // One job at a time; a lost connection (PostgreSQL restarting) is ridden out (job-loop.ts).
  const jobs = startJobLoop<ShardJob>(
    boss,
    SHARD_QUEUE,
    {
      pollingSeconds: options.settings.pollingSeconds,
      onError: (error) =>
        options.onQueueError?.({
          queue: describeQueue(options.settings.url),
          message: error instanceof Error ? error.message : String(error),
        }),
    },
    async (job) => {
      const { runId, shard, shards } = job.data;
      clearTimeout(idle);
      options.onShard?.({ runId, shard, shards });
      if (kept?.runId !== runId) {
        await release();
        kept = {
          runId,
          pool: await shardPool(job.data, source, options.processes, idleProcesses),
        };
      }
      try {
        const partial = await runShard(job.data, {
          source,
          secret,
          processes: options.processes,
          pool: kept.pool,
        });
        options.onShard?.({ runId, shard, shards, users: partial.ran });
        return partial;
      } catch (error) {
        // A failed pool is not reused: the retry starts from fresh processes.
        await release(true);
        throw error;
      } finally {
        // Sandbox processes do not outlive their run's last shard by long.
        idle = setTimeout(() => void release(), IDLE_POOL_MS);
        idle.unref();
      }
    },
  );
  return {
    async stop() {
      await jobs.stop(STOP_GRACE_MS);
      await boss.stop({ graceful: true, wait: true, timeout: STOP_GRACE_MS });
      clearTimeout(idle);
      await release();
      await idleProcesses.close();
      await source.close();
    },
  };
}

/** The store's address never reaches a message: its host, port and database only. */
async function openSource(options: WorkerOptions, secret: Uint8Array): Promise<ShardUserSource> {
  const address = options.store ?? path.join(options.dataDir, 'cloak.db');
  try {
    return await openShardUsers(address, secret);
  } catch (error) {
    const postgres = /^postgres(ql)?:\/\//.test(address);
    throw new AppError('WORKER_STORE_UNAVAILABLE', {
      store: postgres ? describeQueue(address) : address,
      detail: (error as Error).message,
    });
  }
}
