// A sandbox process started ahead of a run (src/sandbox/sandbox-process.ts, startSpare): only the sandbox's process module, so that a command loads little to start it.
export {
  endSpareProcess as endSpareSandbox,
  startSpareProcess as startSpareSandbox,
} from '../sandbox/sandbox-process.ts';
