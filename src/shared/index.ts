// Public surface of src/shared: types both sides of the trust boundary may use, and where the installation's files are.
export * from './types.ts';
export { installRoot } from './install-root.ts';
export {
  SILENT_LOG,
  type OpsLog,
  type RunEvents,
  type RunKind,
  type RunOutcome,
} from './run-events.ts';
