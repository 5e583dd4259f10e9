// Public surface of src/air: the air's store and services. Never imports the cloak. Its web server
// is src/air/web-server.ts, imported where a server starts: the command line loads this file, and
// with the server it would load fastify and every route for a command that needs none of them.
export { airStoreAddress, describeAirData, openAirStore, type AirStore } from './store/index.ts';
export type {
  ApiKeyRecord,
  TaskRecord,
  StoredResult,
  Organisation,
  Analyst,
  TaskType,
  Role,
} from './store/index.ts';
export { TASK_TYPES, ROLES } from './store/index.ts';
export type {
  CloakPort,
  TableSummary,
  TableUserCount,
  TestUser,
  TestUserOutcome,
} from './cloak-port.ts';
export {
  KeyService,
  OPERATOR,
  type IssuedKey,
  type KeyCreator,
  type NewKeyRequest,
} from './key-service.ts';
export { keyTypesFor, mayCreateKey, KEY_TYPES_BY_ROLE } from './key-policy.ts';
export { TaskService, type PreviewOptions, type RunOptions } from './task-service.ts';
export { budgetView, parseNoticeLimit, type BudgetView } from './budget-view.ts';
export { NOBODY, runAccessLevel, setAccessLevel, type TaskActor } from './access-levels.ts';
export { Scheduler, type PeriodLease } from './scheduler.ts';
export { checkSchedule, nextRunAfter, type Schedule } from './schedule.ts';
export { bucketName, toApiItem } from './result-format.ts';
export {
  ensureFirstAdmin,
  FIRST_ADMIN_EMAIL,
  type InitialCredentials,
} from './auth/first-admin.ts';
export { checkLoginPassword, setLoginPassword } from './auth/login-password.ts';
