// The global login budget: failed password checks from unknown addresses may take a fixed share of one core.

/** web.loginCheckShare and web.loginCheckBurstSeconds (src/config/schema.ts). */
export interface CheckBudgetLimits {
  /**
   * Seconds of checking per second of time. In time, not in counts, because a check's cost varies
   * tenfold with the load (~50 ms on an idle core, over 500 ms on a busy 2-core machine): a count
   * that is harmless on one machine takes every core of another, and the results API waits.
   */
  share: number;
  /** Seconds of checking that may be spent at once after a quiet spell. */
  burstSeconds: number;
}

/**
 * What a check is assumed to take until one has been measured: a busy machine's figure, so the
 * first burst of a flood does not admit five times what it can afford.
 */
export const FIRST_ESTIMATE_SECONDS = 0.5;
/** A balance below this (a microsecond) counts as spent, whatever floating point leaves over. */
const SPENT = 1e-6;
/** Weight of the newest measurement in the running estimate of a check's time. */
const ESTIMATE_WEIGHT = 0.2;

export type Reservation = { reserved: number } | { waitSeconds: number };

/**
 * A token bucket holding seconds of checking. `reserve` takes a typical check's time from it
 * before a check (so parallel attempts cannot all slip in at once); `settle` gives it back and
 * charges what the check really took if the login failed. Successful logins are not charged: a
 * flood of guesses spends the budget, people who know their password do not (while it is spent,
 * they wait like everyone not at a known address). The balance goes below zero, then everyone
 * waits until it refills, so over time failed checks take `share` of the time however long each
 * takes. In memory, one per server process.
 */
export class CheckBudget {
  private balance: number;
  private refilledAt = Number.NaN;
  private estimate = FIRST_ESTIMATE_SECONDS;

  constructor(private readonly limits: CheckBudgetLimits) {
    this.balance = limits.burstSeconds;
  }

  /** Admits while the balance is positive, so a check slower than the burst still gets its turn. */
  reserve(now = Date.now()): Reservation {
    this.refill(now);
    if (this.balance < SPENT) {
      return { waitSeconds: Math.max(1, Math.ceil((SPENT - this.balance) / this.limits.share)) };
    }
    this.balance -= this.estimate;
    return { reserved: this.estimate };
  }

  /** `tookSeconds` is 0 for a check that never ran; only failed checks are charged. */
  settle(reserved: number, tookSeconds: number, failed: boolean): void {
    this.balance += reserved - (failed ? tookSeconds : 0);
    if (tookSeconds > 0) {
      this.estimate = (1 - ESTIMATE_WEIGHT) * this.estimate + ESTIMATE_WEIGHT * tookSeconds;
    }
  }

  private refill(now: number): void {
    const elapsed = Number.isNaN(this.refilledAt) ? 0 : Math.max(0, now - this.refilledAt) / 1000;
    this.balance = Math.min(this.limits.burstSeconds, this.balance + elapsed * this.limits.share);
    this.refilledAt = now;
  }
}
