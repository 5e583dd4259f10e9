// A parallel CPU load for the benchmarks: processes that keep cores busy while a side is measured.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';

/**
 * What a shared server's other work does to OpenCloak, reproduced on purpose: `processes` Node
 * processes that loop at the default niceness (as other users' programs would), started before a
 * side and stopped after it. Both sides of a scenario run beside the same load, so their ratio
 * still compares like with like; the absolute figures show what a busy machine leaves.
 */
export interface CpuLoad {
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** One looping process per core by default: every core then has one more runnable thread. */
export function defaultLoadProcesses(): number {
  return os.availableParallelism();
}

export function startCpuLoad(processes = defaultLoadProcesses()): CpuLoad {
  const children: ChildProcess[] = Array.from({ length: processes }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
  // A harness that dies leaves no loop behind.
  const killAll = () => children.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', killAll);
  return {
    pids: children.map((child) => child.pid!),
    async stop() {
      process.removeListener('exit', killAll);
      const exited = children.map((child) =>
        child.exitCode !== null || child.signalCode !== null ? undefined : once(child, 'exit'),
      );
      killAll();
      await Promise.all(exited);
    },
  };
}
