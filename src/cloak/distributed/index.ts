// Public surface of src/cloak/distributed: task runs spread over `opencloak worker` processes through pg-boss.
//
// Owns: the shard jobs of a run (queue.ts), which users a shard holds (shard-users.ts), what a
// worker sends back (shard-partial.ts), the worker (shard-worker.ts, worker-process.ts, and its
// job loop, job-loop.ts), the coordinator's wait and replay (coordinator.ts), which errors are a
// lost connection worth retrying (connection-loss.ts) and the run cap counted in the database
// (shared-run-cap.ts) and async results posted from a queue job (delivery-queue.ts). May import: shared, errors, sandbox, anonymizer, the cloak's data store,
// sandbox pool, noise secret and run cap, and the packages pg and pg-boss (only this folder talks
// to the queue). It never settles the budget or anonymizes: the task runner does, once per run.
// Design: docs/server-mode.md.
export { ShardCoordinator, type ShardFeeder, type CoordinatorOptions } from './coordinator.ts';
export { openQueue, describeQueue, type QueueSettings } from './queue.ts';
export { startShardWorker, type RunningWorker, type WorkerOptions } from './worker-process.ts';
export {
  shardOf,
  openShardUsers,
  SqliteShardUsers,
  PostgresShardUsers,
  type ShardUserSource,
} from './shard-users.ts';
export { SharedRunCap } from './shared-run-cap.ts';
export {
  DeliveryQueue,
  startDeliveryLoop,
  type DeliveryEvents,
  type DeliveryRetries,
} from './delivery-queue.ts';
export type { JobLoop } from './job-loop.ts';
