// Starts periodic tasks and publishes streaming reports when due; after downtime, each missed task
// runs (or reports) once, not once per miss.
import type { AirStore } from './store/index.ts';
import { nextRunAfter } from './schedule.ts';
import type { TaskService } from './task-service.ts';

export interface SchedulerEvents {
  /** A run could not start (the organisation's run cap, a task that no longer validates). */
  skipped?(taskId: number, reason: string): void;
}

/**
 * Server mode: several API servers run a scheduler each, and one period of a task must run once.
 * `claim` answers true to exactly one caller per (task, due time) across every server.
 */
export interface PeriodLease {
  claim(taskId: number, dueAt: number): Promise<boolean>;
  /** Gives a claimed period back, when its run could not start, so a later tick tries again. */
  release(taskId: number, dueAt: number): Promise<void>;
}

export class Scheduler {
  #timer: NodeJS.Timeout | undefined;
  /** The tick in progress: a slow cloak or database must not let two ticks start one due task. */
  #ticking: Promise<number[]> | undefined;

  constructor(
    private readonly store: AirStore,
    private readonly tasks: TaskService,
    private readonly events: SchedulerEvents = {},
    private readonly lease?: PeriodLease,
  ) {}

  /** Checks at once (catching up after downtime) and then every `tickMs`. */
  start(tickMs: number): void {
    void this.#tickOnce();
    this.#timer = setInterval(() => void this.#tickOnce(), tickMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Starts every periodic task (and publishes every streaming report) whose next time (after its
   * last scheduled run, or its creation) has come. The start time is recorded as the run starts,
   * and the next run time is computed from it: however many runs a downtime missed, the task runs
   * once. In server mode a due task starts only on the server that claims its period (`lease`),
   * so two servers never run one period twice. Returns the ids started.
   */
  async tick(now = Date.now()): Promise<number[]> {
    const started: number[] = [];
    for (const { task, dueAt } of await this.#due(now)) {
      if (this.lease && !(await this.lease.claim(task.id, dueAt))) continue;
      if (await this.#start(task, now)) started.push(task.id);
      else await this.lease?.release(task.id, dueAt);
    }
    return started;
  }

  /** A timer's tick: skipped while the last one still works; its failures go to `skipped`. */
  async #tickOnce(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = this.tick();
    try {
      await this.#ticking;
    } catch (error) {
      this.events.skipped?.(0, (error as Error).message);
    } finally {
      this.#ticking = undefined;
    }
  }

  /** Periodic and streaming tasks whose next time has come, with that time. */
  async #due(now: number) {
    for (const { taskId, error } of await this.tasks.syncStreamingTasks()) {
      this.events.skipped?.(taskId, error);
    }
    const tasks = [
      ...(await this.store.tasks.ofType('periodic')),
      ...(await this.store.tasks.ofType('streaming')),
    ];
    return tasks.flatMap((task) => {
      if (!task.schedule) return [];
      const dueAt = nextRunAfter(task.schedule, task.lastScheduledAt ?? task.createdAt);
      return dueAt > now ? [] : [{ task, dueAt }];
    });
  }

  /** Starts one due task (or publishes its report); false when it could not start. */
  async #start(
    task: Awaited<ReturnType<AirStore['tasks']['ofType']>>[number],
    now: number,
  ): Promise<boolean> {
    try {
      if (task.type === 'streaming') await this.tasks.publishStreaming(task, now);
      // A periodic run acts for whoever last saved the task (they set its schedule).
      else {
        const by = { actor: 'scheduler', personId: task.savedBy };
        await this.tasks.startRun(task, { background: true, by, via: 'schedule' });
      }
    } catch (error) {
      // Not marked: the task is tried again at the next tick.
      this.events.skipped?.(task.id, (error as Error).message);
      return false;
    }
    await this.store.tasks.markScheduled(task.id, now);
    return true;
  }
}
