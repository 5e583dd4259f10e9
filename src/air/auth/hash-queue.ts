// Password checks in flight at once, bounded, with a short queue and a way in first for known addresses.

/**
 * Async scrypt runs on the libuv pool (4 threads by default), which file reads and DNS share: a
 * flood of checks must not take all of it, nor queue without end. At most this many at once.
 */
export const MAX_CHECKS_IN_FLIGHT = 2;
/** Checks that may wait behind those; more are refused (429) rather than queued. */
export const MAX_QUEUED_CHECKS = 4;
/** Checks for a known (account, address) pair wait in their own, longer line, served first. */
export const MAX_QUEUED_PRIORITY_CHECKS = 32;

export type Lane = 'priority' | 'normal';

/** A counting semaphore with two bounded FIFO lanes; `priority` is always served first. */
export class HashQueue {
  private running = 0;
  private readonly waiting: Record<Lane, Array<() => void>> = { priority: [], normal: [] };

  constructor(
    private readonly limits = {
      inFlight: MAX_CHECKS_IN_FLIGHT,
      priority: MAX_QUEUED_PRIORITY_CHECKS,
      normal: MAX_QUEUED_CHECKS,
    },
  ) {}

  /** Runs `work` when a slot is free; undefined (nothing run) when its lane is full. */
  run<T>(lane: Lane, work: () => Promise<T>): Promise<T> | undefined {
    if (this.running >= this.limits.inFlight && this.waiting[lane].length >= this.limits[lane]) {
      return undefined;
    }
    return this.acquire(lane).then(async () => {
      try {
        return await work();
      } finally {
        this.release();
      }
    });
  }

  private acquire(lane: Lane): Promise<void> {
    if (this.running < this.limits.inFlight) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting[lane].push(resolve));
  }

  /** Hands the slot straight to the next waiter (so `running` stays), or frees it. */
  private release(): void {
    const next = this.waiting.priority.shift() ?? this.waiting.normal.shift();
    if (next) next();
    else this.running--;
  }
}
