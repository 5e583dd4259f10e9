// The global login budget: password checks for unknown addresses may take a fixed share of one core.

/**
 * Seconds of checking per second of time, for attempts from addresses not known for their
 * account. Measured in time, not in counts, because a check's cost varies tenfold with the load
 * (~50 ms on an idle core, over 500 ms on a busy 2-core machine): a count that is harmless on one
 * machine takes every core of another, and the results API waits for a core. A twentieth of one
 * core: about one new-address login a second on an idle machine; on a busy 2-core machine a
 * tenth was still enough to raise the results API's p99 while checks ran (32 MiB each).
 */
export const CHECK_SHARE = 0.05;
/** Seconds of checking that may be spent at once after a quiet spell. */
export const BURST_SECONDS = 0.25;
/** What a check is assumed to take until one has been measured. */
export const FIRST_ESTIMATE_SECONDS = 0.1;
/** A balance below this (a microsecond) counts as spent, whatever floating point leaves over. */
const SPENT = 1e-6;
/** Weight of the newest measurement in the running estimate of a check's time. */
const ESTIMATE_WEIGHT = 0.2;

export type Reservation = { reserved: number } | { waitSeconds: number };

/**
 * A token bucket holding seconds of checking. `reserve` takes a typical check's time from it
 * before a check (so parallel attempts cannot all slip in at once), `settle` corrects that by
 * what the check really took. The balance goes below zero; then everyone waits until it refills,
 * so over time checks take CHECK_SHARE of the time however long each takes.
 * In memory, one per server process.
 */
export class CheckBudget {
  private balance = BURST_SECONDS;
  private refilledAt = Number.NaN;
  private estimate = FIRST_ESTIMATE_SECONDS;

  /** Admits while the balance is positive, so a check slower than the burst still gets its turn. */
  reserve(now = Date.now()): Reservation {
    this.refill(now);
    if (this.balance < SPENT) {
      return { waitSeconds: Math.max(1, Math.ceil((SPENT - this.balance) / CHECK_SHARE)) };
    }
    this.balance -= this.estimate;
    return { reserved: this.estimate };
  }

  /** `tookSeconds` is 0 for a reservation that was not used (the check never ran). */
  settle(reserved: number, tookSeconds: number): void {
    this.balance += reserved - tookSeconds;
    if (tookSeconds > 0) {
      this.estimate = (1 - ESTIMATE_WEIGHT) * this.estimate + ESTIMATE_WEIGHT * tookSeconds;
    }
  }

  private refill(now: number): void {
    const elapsed = Number.isNaN(this.refilledAt) ? 0 : Math.max(0, now - this.refilledAt) / 1000;
    this.balance = Math.min(BURST_SECONDS, this.balance + elapsed * CHECK_SHARE);
    this.refilledAt = now;
  }
}
