// Starts periodic tasks and publishes streaming reports when due; after downtime, each missed task
// runs (or reports) once, not once per miss.
import type { AirStore } from './store/index.ts';
import { nextRunAfter } from './schedule.ts';
import type { TaskService } from './task-service.ts';

export interface SchedulerEvents {
  /** A run could not start (the organisation's run cap, a task that no longer validates). */
  skipped?(taskId: number, reason: string): void;
}

export class Scheduler {
  #timer: NodeJS.Timeout | undefined;
  /** The tick in progress: a slow database must not let two ticks start the same task. */
  #ticking: Promise<number[]> | undefined;

  constructor(
    private readonly store: AirStore,
    private readonly tasks: TaskService,
    private readonly events: SchedulerEvents = {},
  ) {}

  /** Checks at once (catching up after downtime) and then every `tickMs`. */
  start(tickMs: number): void {
    const tick = () => {
      if (this.#ticking) return;
      this.#ticking = this.tick().finally(() => (this.#ticking = undefined));
      // A tick that fails as a whole (the database is unreachable) is tried again at the next.
      this.#ticking.catch(() => undefined);
    };
    tick();
    this.#timer = setInterval(tick, tickMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Starts every periodic task (and publishes every streaming report) whose next time (after its last scheduled run, or its creation)
   * has come. The start time is recorded as the run starts, and the next run time is computed
   * from it: however many runs a downtime missed, the task runs once. Returns the ids started.
   */
  async tick(now = Date.now()): Promise<number[]> {
    for (const { taskId, error } of await this.tasks.syncStreamingTasks()) {
      this.events.skipped?.(taskId, error);
    }
    const started: number[] = [];
    const due = [
      ...(await this.store.tasks.ofType('periodic')),
      ...(await this.store.tasks.ofType('streaming')),
    ];
    for (const task of due) {
      if (!task.schedule) continue;
      if (nextRunAfter(task.schedule, task.lastScheduledAt ?? task.createdAt) > now) continue;
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
        continue;
      }
      await this.store.tasks.markScheduled(task.id, now);
      started.push(task.id);
    }
    return started;
  }
}
