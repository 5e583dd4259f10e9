// Login limits: lock-out per (account, address) and failures per address (the global budget: check-budget.ts).

/** Failures of one account from one address before that pair is locked out. */
export const MAX_PAIR_FAILURES = 5;
/** Higher than per pair: many people may share one address (an office behind NAT). */
export const MAX_ADDRESS_FAILURES = 50;
export const WINDOW_MS = 15 * 60_000;
/** The failure map is swept of expired entries when it grows past this. */
const SWEEP_AT = 10_000;

export interface LoginAttempt {
  /** The e-mail address as typed, lower-cased: unknown accounts are counted like known ones. */
  account: string;
  address: string;
  /**
   * The account logged in from this address recently (KnownAddresses): exempt from the address
   * limit (and from the global budget), so no one elsewhere can keep the right password out.
   */
  known: boolean;
}

/**
 * Counts failures per (account, address) and per address in a sliding window. Guessing one
 * account from many addresses is bounded by the global budget (CheckBudget); guessing from one
 * address by these limits; and no failure from anywhere else locks the right password out of an
 * address. In memory: a restart resets it, and several processes would each keep their own
 * (server mode moves it to shared storage).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  /** Seconds until this attempt may be checked, or 0 when it may be now. */
  retryAfterSeconds(attempt: LoginAttempt, now = Date.now()): number {
    const wait = Math.max(
      this.wait(pairKey(attempt), MAX_PAIR_FAILURES, now),
      attempt.known ? 0 : this.wait(addressKey(attempt), MAX_ADDRESS_FAILURES, now),
    );
    return Math.ceil(wait / 1000);
  }

  fail(attempt: LoginAttempt, now = Date.now()): void {
    if (this.failures.size > SWEEP_AT) this.sweep(now);
    for (const key of [pairKey(attempt), addressKey(attempt)]) {
      this.failures.set(key, [...this.recent(key, now), now].slice(-MAX_ADDRESS_FAILURES));
    }
  }

  /** A successful login clears its pair's failures; the address keeps its count. */
  succeed(attempt: LoginAttempt): void {
    this.failures.delete(pairKey(attempt));
  }

  private wait(key: string, limit: number, now: number): number {
    const recent = this.recent(key, now);
    return recent.length >= limit ? recent[recent.length - limit]! + WINDOW_MS - now : 0;
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((at) => now - at < WINDOW_MS);
  }

  private sweep(now: number): void {
    for (const [key, times] of this.failures) {
      if (times.every((at) => now - at >= WINDOW_MS)) this.failures.delete(key);
    }
  }
}

const pairKey = (a: LoginAttempt) => `pair:${a.account}\n${a.address}`;
const addressKey = (a: LoginAttempt) => `address:${a.address}`;
