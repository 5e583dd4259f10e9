// Starts periodic tasks when they are due; after downtime, each missed task runs once, not once per miss.
import type { AirStore } from './store/index.ts';
import { nextRunAfter } from './schedule.ts';
import type { TaskService } from './task-service.ts';

export interface SchedulerEvents {
  /** A run could not start (the organisation's run cap, a task that no longer validates). */
  skipped?(taskId: number, reason: string): void;
}

export class Scheduler {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: AirStore,
    private readonly tasks: TaskService,
    private readonly events: SchedulerEvents = {},
  ) {}

  /** Checks at once (catching up after downtime) and then every `tickMs`. */
  start(tickMs: number): void {
    this.tick();
    this.#timer = setInterval(() => this.tick(), tickMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Starts every periodic task whose next run time (after its last scheduled run, or its creation)
   * has come. The start time is recorded as the run starts, and the next run time is computed
   * from it: however many runs a downtime missed, the task runs once. Returns the ids started.
   */
  tick(now = Date.now()): number[] {
    const started: number[] = [];
    for (const task of this.store.tasks.periodic()) {
      if (!task.schedule) continue;
      if (nextRunAfter(task.schedule, task.lastScheduledAt ?? task.createdAt) > now) continue;
      try {
        this.tasks.startRun(task, { background: true });
      } catch (error) {
        // Not marked: the task is tried again at the next tick.
        this.events.skipped?.(task.id, (error as Error).message);
        continue;
      }
      this.store.tasks.markScheduled(task.id, now);
      started.push(task.id);
    }
    return started;
  }
}
