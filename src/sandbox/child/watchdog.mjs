// In the sandbox process: starts the thread that kills the process when one user's run outlives its budget.
import { once } from 'node:events';
import { URL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * isolated-vm's timeout interrupts JavaScript, but a builtin stuck in C++ (a huge sort, a giant
 * allocation) may not notice it. The host would then wait on a process that never answers; the
 * watchdog ends the process instead, and the host reports that user's timeout from the marker
 * line it leaves on stderr.
 *
 * The main thread only bumps a shared counter per run (waking a thread would cost more than a
 * trivial run); the watchdog looks every `intervalMs` and fires when the same run is still on
 * after the budget.
 *
 * Resolves once the thread runs: a worker only starts while its parent's event loop turns, so
 * the caller must wait for this before it blocks in synchronous reads.
 */
export async function startWatchdog(budgetMs) {
  const buffer = new SharedArrayBuffer(12);
  const state = new Int32Array(buffer);
  state[2] = budgetMs;
  const intervalMs = Math.max(10, Math.min(250, Math.floor(budgetMs / 4)));
  const worker = new Worker(new URL('./watchdog-thread.mjs', import.meta.url), {
    workerData: { buffer, intervalMs },
    execArgv: [],
  });
  await once(worker, 'online');
  worker.unref();
  return {
    /** A run's budget may be longer than the first (a user run again after a starved run). */
    runStarted(runBudgetMs = budgetMs) {
      Atomics.store(state, 2, runBudgetMs);
      Atomics.add(state, 0, 1);
    },
    runEnded: () => Atomics.add(state, 0, 1),
  };
}
