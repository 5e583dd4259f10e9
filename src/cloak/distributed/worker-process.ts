// `opencloak worker`: takes shard jobs from the queue and runs them over the shared data directory.
import Database from 'better-sqlite3';
import path from 'node:path';
import { CloakDataStore } from '../data/index.ts';
import { loadOrCreateNoiseSecret } from '../noise-secret.ts';
import { openQueue, SHARD_QUEUE, type QueueSettings, type ShardJob } from './queue.ts';
import { runShard } from './shard-worker.ts';
import { DataStoreShardUsers } from './shard-users.ts';

export interface WorkerOptions {
  settings: Readonly<QueueSettings>;
  /** The installation's data directory: cloak.db and the noise secret (same host). */
  dataDir: string;
  /** Sandbox processes per shard. */
  processes: number;
  /** Told of every shard taken and finished, for the command's log lines. */
  onShard?(event: { runId: string; shard: number; shards: number; users?: number }): void;
}

export interface RunningWorker {
  /** Stops taking shards, waits for the one in hand, closes the queue and the data. */
  stop(): Promise<void>;
}

/**
 * The worker reads cloak.db through a read-only connection of its own (WAL lets it read beside
 * the server) and never creates the noise secret: a data directory without one is not an
 * installation, and a fresh secret would give every user another key.
 */
export async function startShardWorker(options: WorkerOptions): Promise<RunningWorker> {
  const secret = loadOrCreateNoiseSecret(
    options.dataDir,
    () => 'a worker never creates the noise secret; start the server on this data directory first',
  );
  const db = new Database(path.join(options.dataDir, 'cloak.db'), {
    readonly: true,
    fileMustExist: true,
  });
  db.pragma('busy_timeout = 5000');
  const source = new DataStoreShardUsers(new CloakDataStore(db), secret);
  let boss;
  try {
    boss = await openQueue(options.settings);
  } catch (error) {
    db.close();
    throw error;
  }
  await boss.work<ShardJob>(
    SHARD_QUEUE,
    { batchSize: 1, pollingIntervalSeconds: options.settings.pollingSeconds },
    async ([job]) => {
      const { runId, shard, shards } = job!.data;
      options.onShard?.({ runId, shard, shards });
      const partial = await runShard(job!.data, {
        source,
        secret,
        processes: options.processes,
      });
      options.onShard?.({ runId, shard, shards, users: partial.ran });
      return partial;
    },
  );
  return {
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 30_000 });
      db.close();
    },
  };
}
