// A worker's part of a run: the sandbox over one shard's users, answered as a shard partial.
import { userKey } from '../../anonymizer/index.ts';
import {
  compileTask,
  type SandboxProcessCache,
  type UserInput,
  type UserOutcome,
} from '../../sandbox/index.ts';
import { SandboxPool } from '../sandbox-pool.ts';
import type { ShardJob } from './queue.ts';
import { PartialBuilder, type ShardPartial } from './shard-partial.ts';
import type { ShardUserSource } from './shard-users.ts';

/** As in-process runs (task-runner.ts): amortizes the hand-over, bounds a batch's overshoot. */
const USERS_PER_BATCH = 128;

/** Sandbox processes for one run's code, kept from one of its shards to the next. */
export type ShardPool = SandboxPool<{ userId: string; tables: UserInput['tables'] }>;

export interface ShardWorkerOptions {
  source: ShardUserSource;
  /** The installation's noise secret: users are sent back by key, never by id. */
  secret: Uint8Array;
  /** Sandbox processes this worker keeps busy on one shard. */
  processes: number;
  /**
   * The pool of a shard of the same run that this worker ran before, if any: starting sandbox
   * processes costs more than a small shard's users. Shards of one run are one run's users, whom
   * one pool serves in-process as well, so nothing passes between runs.
   */
  pool?: ShardPool;
}

/**
 * Sandbox processes for a shard job's code, with the job's limits and lookup tables. The lookup
 * reader is taken once per pool, that is per run on this worker (ShardUserSource.lookupReader).
 */
export async function shardPool(
  job: ShardJob,
  source: ShardUserSource,
  processes: number,
  cache?: SandboxProcessCache,
): Promise<ShardPool> {
  const lookup = await source.lookupReader(job.orgId);
  // The worker's idle processes serve the organisation's next run, as in-process runs do.
  const compile = () => compileTask(job.code, job.limits, { lookup }, cache?.scoped(job.orgId));
  return new SandboxPool(compile, compile(), processes);
}

/**
 * Runs one shard. A user's failure inside the sandbox is that user's exception, as in-process; a
 * failure of the shard as a whole (the code no longer compiles, a sandbox process cannot start)
 * throws, and the queue retries the shard or fails the run. The caller disposes of the pool.
 */
export async function runShard(job: ShardJob, options: ShardWorkerOptions): Promise<ShardPartial> {
  const { source, secret } = options;
  const pool = options.pool ?? (await shardPool(job, source, options.processes));
  const partial = new PartialBuilder();
  const done = (users: Array<{ userId: string }>, outcomes: UserOutcome[]) => {
    users.forEach((user, i) => partial.add(userKey(secret, user.userId), outcomes[i]!));
  };
  let batch: Array<{ userId: string; tables: UserInput['tables'] }> = [];
  const shard = { index: job.shard, of: job.shards };
  for await (const user of source.users(job.orgId, job.prefetch, job.now, shard)) {
    batch.push(user);
    if (batch.length < USERS_PER_BATCH) continue;
    await pool.submit(batch, done);
    batch = [];
  }
  if (batch.length > 0) await pool.submit(batch, done);
  await pool.drain();
  return partial.partial;
}
