// Idle sandbox processes kept between the runs of one organisation, so that a run does not pay for starting Node.
import type { ProcessReuse } from './compile-task.ts';
import type { SandboxInit, SandboxProcess } from './sandbox-process.ts';

/** Tasks one process serves before it is ended, so that none lives for ever. */
export const TASKS_PER_SANDBOX_PROCESS = 64;

export interface ProcessCacheOptions {
  /** Idle processes kept in all, over every organisation; 0 keeps none. */
  maxIdle: number;
  /** An idle process nobody takes within this is ended; 0 keeps none. */
  idleMs: number;
  /** A process is ended after this many tasks, so that no process lives for ever. */
  maxTasks: number;
}

interface IdleProcess {
  key: string;
  process: SandboxProcess;
  timer: NodeJS.Timeout;
}

/**
 * Starting a sandbox process (Node without its start-up snapshot, isolated-vm) costs about 0.2 s
 * of CPU, more than most small runs' own work. A run that ended cleanly hands its idle processes
 * back here, and the next run of the same organisation with the same limits takes one and sends it
 * its task: the process makes a new isolate (SES locked down afresh, the task compiled in a new
 * compartment), so nothing of the previous task's isolate is left. Processes are never handed
 * from one organisation to another, and a process that was stopped mid-batch, crashed or broke
 * a limit hard is never kept (README.md, "Processes").
 */
export class SandboxProcessCache {
  readonly #idle: IdleProcess[] = [];
  #closed = false;

  constructor(private readonly options: Readonly<ProcessCacheOptions>) {}

  /** What compileTask needs to share this cache's processes among the programs of `scope`. */
  scoped(scope: string): ProcessReuse {
    return { cache: this, scope };
  }

  /** The key a process is kept under: the organisation (or other scope) and the limits. */
  static keyOf(scope: string, init: SandboxInit): string {
    return JSON.stringify([scope, init.limits]);
  }

  /** An idle process of `key`, already handed `init`; undefined when there is none. */
  take(key: string, init: SandboxInit): SandboxProcess | undefined {
    // The most recently used first: the others are then the first to reach their idle limit.
    for (let i = this.#idle.length - 1; i >= 0; i--) {
      const entry = this.#idle[i]!;
      if (entry.key !== key) continue;
      this.#idle.splice(i, 1);
      clearTimeout(entry.timer);
      if (!entry.process.alive) continue;
      entry.process.reinit(init);
      return entry.process;
    }
    return undefined;
  }

  /**
   * Keeps an idle, healthy process for the next task of `key`, or ends it; resolves at once when
   * kept, else once the process has exited (as TaskProgram.dispose does).
   */
  async put(key: string, process: SandboxProcess): Promise<void> {
    const { maxIdle, idleMs, maxTasks } = this.options;
    const keeps = maxIdle > 0 && idleMs > 0;
    if (this.#closed || !keeps || !process.alive || process.tasks >= maxTasks) {
      process.dispose();
      await process.exited;
      return;
    }
    const entry: IdleProcess = {
      key,
      process,
      timer: setTimeout(() => this.#end(entry), idleMs),
    };
    entry.timer.unref();
    this.#idle.push(entry);
    while (this.#idle.length > maxIdle) this.#end(this.#idle[0]!);
  }

  /** The idle processes' ids, oldest first (for monitoring and tests). */
  pids(): number[] {
    return this.#idle.flatMap((entry) =>
      entry.process.pid === undefined ? [] : [entry.process.pid],
    );
  }

  /** Ends every idle process and keeps none from now on; resolves once they have exited. */
  async close(): Promise<void> {
    this.#closed = true;
    const ending = this.#idle.map((entry) => entry.process);
    while (this.#idle.length > 0) this.#end(this.#idle[0]!);
    await Promise.all(ending.map((process) => process.exited));
  }

  #end(entry: IdleProcess): void {
    const at = this.#idle.indexOf(entry);
    if (at >= 0) this.#idle.splice(at, 1);
    clearTimeout(entry.timer);
    entry.process.dispose();
  }
}
