// The run cap: task runs in progress per organisation, over every API, counted until their sandbox work has stopped.
import { AppError } from '../errors/index.ts';

/**
 * One counter per organisation for the web REST API, the site, the scheduler and the cloak API
 * alike (they all run tasks through the one TaskRunner). A run counts from its start until both
 * its answer has left and its sandbox work has stopped: cancelling answers at once, but the slot
 * frees only once the run's sandbox processes are gone, so no sequence of requests can keep more
 * than the cap of runs working. The answer half keeps the release schedule's promise that when a
 * slot frees follows the schedule, not the data (release-schedule.ts).
 */
export class RunCap {
  readonly #running = new Map<string, number>();

  constructor(private readonly maxPerOrganisation: number) {}

  /** Throws TOO_MANY_RUNS when the organisation is at its cap. */
  check(orgId: string): void {
    const running = this.running(orgId);
    if (running >= this.maxPerOrganisation) throw new AppError('TOO_MANY_RUNS', { running });
  }

  running(orgId: string): number {
    return this.#running.get(orgId) ?? 0;
  }

  /**
   * Counts a run from now until every promise `track` is given has settled, `answer` included
   * (each is handed in before `answer` settles), and settles like `answer` once they all have:
   * a run that says it was cancelled, or timed out, has stopped working and freed its slot.
   * Throws TOO_MANY_RUNS at the cap.
   */
  async count<T>(
    orgId: string,
    start: (track: (work: Promise<unknown>) => void) => Promise<T>,
  ): Promise<T> {
    this.check(orgId);
    this.#running.set(orgId, this.running(orgId) + 1);
    const works: Array<Promise<unknown>> = [];
    let answer: Promise<T>;
    try {
      answer = start((work) => works.push(work));
    } catch (error) {
      answer = Promise.reject(error);
    }
    try {
      await Promise.allSettled([answer]);
      await Promise.allSettled(works);
    } finally {
      const left = this.running(orgId) - 1;
      if (left > 0) this.#running.set(orgId, left);
      else this.#running.delete(orgId);
    }
    return answer;
  }
}
