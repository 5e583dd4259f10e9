// Public surface of src/sandbox: compile task code once, run it once per user in an isolated V8 heap.
export { compileTask, type ProcessReuse } from './compile-task.ts';
export {
  SandboxProcessCache,
  TASKS_PER_SANDBOX_PROCESS,
  type ProcessCacheOptions,
} from './process-cache.ts';
export { TaskCompileError } from './task-compile-error.ts';
export {
  DEFAULT_SANDBOX_LIMITS,
  MAX_PROPERTY_TEXT_LENGTH,
  type CellValue,
  type Row,
  type SandboxLimits,
  type TaskHost,
  type TaskProgram,
  type UserInput,
  type UserOutcome,
} from './types.ts';
