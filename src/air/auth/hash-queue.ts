// Password checks in flight at once, bounded, with a short queue and a way in first for known addresses.

/**
 * Async scrypt runs on the libuv pool (4 threads by default), which file reads and DNS share: a
 * flood of checks must not take all of it, nor queue without end. At most this many at once ...
 */
export const MAX_CHECKS_IN_FLIGHT = 2;
/** ... of which this many from unknown addresses: on a 2-core machine one core stays free. */
export const MAX_NORMAL_CHECKS_IN_FLIGHT = 1;
/** Checks that may wait behind those; more are refused (429) rather than queued. */
export const MAX_QUEUED_CHECKS = 4;
/** Checks for a known (account, address) pair wait in their own, longer line, served first. */
export const MAX_QUEUED_PRIORITY_CHECKS = 32;

export type Lane = 'priority' | 'normal';

export interface HashQueueLimits {
  inFlight: number;
  normalInFlight: number;
  /** Waiting places per lane. */
  priority: number;
  normal: number;
}

/** A counting semaphore with two bounded FIFO lanes; `priority` is always served first. */
export class HashQueue {
  private readonly running: Record<Lane, number> = { priority: 0, normal: 0 };
  private readonly waiting: Record<Lane, Array<() => void>> = { priority: [], normal: [] };

  constructor(
    private readonly limits: HashQueueLimits = {
      inFlight: MAX_CHECKS_IN_FLIGHT,
      normalInFlight: MAX_NORMAL_CHECKS_IN_FLIGHT,
      priority: MAX_QUEUED_PRIORITY_CHECKS,
      normal: MAX_QUEUED_CHECKS,
    },
  ) {}

  /** Runs `work` when a slot is free; undefined (nothing run) when its lane is full. */
  run<T>(lane: Lane, work: () => Promise<T>): Promise<T> | undefined {
    if (!this.mayStart(lane) && this.waiting[lane].length >= this.limits[lane]) return undefined;
    return this.acquire(lane).then(async () => {
      try {
        return await work();
      } finally {
        this.running[lane]--;
        this.startWaiting();
      }
    });
  }

  private mayStart(lane: Lane): boolean {
    const total = this.running.priority + this.running.normal;
    if (total >= this.limits.inFlight) return false;
    return lane === 'priority' || this.running.normal < this.limits.normalInFlight;
  }

  private acquire(lane: Lane): Promise<void> {
    if (this.waiting[lane].length === 0 && this.mayStart(lane)) {
      this.running[lane]++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting[lane].push(resolve));
  }

  private startWaiting(): void {
    for (const lane of ['priority', 'normal'] as const) {
      while (this.waiting[lane].length > 0 && this.mayStart(lane)) {
        this.running[lane]++;
        this.waiting[lane].shift()!();
      }
    }
  }
}
