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
export {
  JsonTextProblem,
  parseJsonText,
  showJsonPath,
  type JsonPath,
  type JsonProblemKind,
  type JsonTextOptions,
} from './json-text.ts';
export { uploadKeyName } from './upload-keys.ts';
