// Public surface of src/cloak (trusted): opens the cloak's data, task runner and API server.
export { createCloakServer, type CloakServerOptions } from './cloak-server.ts';
export { airService, type AirService } from './air-service.ts';
export { requireSync, type CloakDataStore } from './data/index.ts';
export { noiseSecretPath } from './noise-secret.ts';
export { TaskRunner } from './task-runner.ts';
export {
  DeliveryQueue,
  openQueue,
  SharedRunCap,
  ShardCoordinator,
  startDeliveryLoop,
  startShardWorker,
  type DeliveryEvents,
  type JobLoop,
  type QueueSettings,
  type RunningWorker,
  type WorkerOptions,
} from './distributed/index.ts';
export { ParticipationBudget } from './participation-budget.ts';
export { ReleaseSchedule, type ReleaseScheduleOptions } from './release-schedule.ts';
export {
  tryTask,
  type TestUserInput,
  type TestUserResult,
  type TryTaskOptions,
} from './try-task.ts';
export * from './open-cloak.ts';
