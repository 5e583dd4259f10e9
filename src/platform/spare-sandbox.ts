// For a command about to run a task: a sandbox process that starts while the platform opens (src/cloak/spare-sandbox.ts).
export { endSpareSandbox, startSpareSandbox } from '../cloak/spare-sandbox.ts';
