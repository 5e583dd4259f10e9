// Keeps several sandbox processes of one task busy at once, a batch of users each.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { TaskProgram, UserInput, UserOutcome } from '../sandbox/index.ts';

/** May return a promise (a save): the batch counts as running, and its failure as the pool's, until it settles. */
type Done<U> = (users: U[], outcomes: UserOutcome[]) => void | Promise<void>;

/**
 * A run hands batches to `submit`, which resolves as soon as a process can take the next one, so
 * reading users from the store overlaps with the sandboxes' work and at most `size` batches (plus
 * the one being read) are in memory. Outcomes reach `done` in completion order, which is fine for
 * counting: aggregation does not depend on order. The first failure is thrown by the next
 * `submit` or by `drain`.
 */
export class SandboxPool<U extends UserInput> {
  readonly #idle: TaskProgram[];
  readonly #all: TaskProgram[];
  readonly #running = new Set<Promise<void>>();
  #failure: unknown;
  /** Set by dispose: no process is started, and no batch handed in, after it. */
  #stopped = false;

  constructor(
    private readonly compile: () => TaskProgram,
    first: TaskProgram,
    private readonly size: number,
  ) {
    this.#idle = [first];
    this.#all = [first];
  }

  async submit(users: U[], done: Done<U>): Promise<void> {
    if (this.#stopped) throw new Error('SandboxPool: the pool was stopped');
    this.#throwIfFailed();
    if (this.#idle.length === 0 && this.#all.length < this.size) {
      const program = this.compile();
      this.#all.push(program);
      this.#idle.push(program);
    }
    while (this.#idle.length === 0) await Promise.race(this.#running);
    this.#throwIfFailed();
    if (this.#stopped) throw new Error('SandboxPool: the pool was stopped');
    const program = this.#idle.pop()!;
    const job = program
      .runUsers(users.map(({ tables, accumulator }) => ({ tables, accumulator })))
      .then((outcomes) => done(users, outcomes))
      .catch((error: unknown) => {
        this.#failure ??= error;
      })
      .finally(() => {
        this.#idle.push(program);
        this.#running.delete(job);
      });
    this.#running.add(job);
    // The API and other runs get the event loop between batches.
    await yieldToEventLoop();
  }

  /** Waits for every batch handed in so far. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.race(this.#running);
    this.#throwIfFailed();
  }

  /**
   * Stops every process at once, busy or not (a cancelled or timed-out run's work ends here, not
   * when its batches would have), then waits for the batches that were running to settle.
   */
  async dispose(): Promise<void> {
    this.#stopped = true;
    const exited = this.#all.map((program) => program.dispose());
    await Promise.allSettled([...this.#running, ...exited]);
  }

  /**
   * Ends the pool once its run has finished: every batch was answered, so each process is idle
   * and goes back to its program's process cache for the organisation's next run
   * (TaskProgram.release). With a batch still out, or after a failure, this is dispose.
   */
  async release(): Promise<void> {
    if (this.#running.size > 0 || this.#failure !== undefined) return this.dispose();
    this.#stopped = true;
    await Promise.all(this.#all.map((program) => program.release()));
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}
