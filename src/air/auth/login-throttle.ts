// Login limits: lock-out per (account, address), failures per address, and a global budget of checks.

/** Failures of one account from one address before that pair is locked out. */
export const MAX_PAIR_FAILURES = 5;
/** Higher than per pair: many people may share one address (an office behind NAT). */
export const MAX_ADDRESS_FAILURES = 50;
export const WINDOW_MS = 15 * 60_000;
/**
 * Password checks per second for attempts from addresses not known for their account, with a
 * burst allowance. Each check is ~50 ms of one core: this keeps a flood from unknown addresses
 * to a fraction of one core, whatever the number of addresses it comes from.
 */
export const GLOBAL_CHECKS_PER_SECOND = 4;
export const GLOBAL_BURST = 8;
/** The failure map is swept of expired entries when it grows past this. */
const SWEEP_AT = 10_000;

export interface LoginAttempt {
  /** The e-mail address as typed, lower-cased: unknown accounts are counted like known ones. */
  account: string;
  address: string;
  /** The account logged in from this address recently (KnownAddresses): exempt from the address
   * limit and the global budget, so no one elsewhere can keep the right password out. */
  known: boolean;
}

export type Refusal = { reason: 'failures'; seconds: number } | { reason: 'busy'; seconds: number };

/**
 * Counts failures per (account, address) and per address in a sliding window, and spends a token
 * bucket for every attempt that is not from a known address. Guessing one account from many
 * addresses is bounded by the budget; guessing from one address by the address limit; and no
 * failure anywhere else locks the right password out of an address. In memory: a restart resets
 * it, and several processes would each keep their own (server mode moves it to shared storage).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private tokens = GLOBAL_BURST;
  private refilledAt = -Infinity;

  /** Why this attempt may not be checked now, or undefined when it may (spending a token). */
  admit(attempt: LoginAttempt, now = Date.now()): Refusal | undefined {
    const locked = Math.max(
      this.wait(pairKey(attempt), MAX_PAIR_FAILURES, now),
      attempt.known ? 0 : this.wait(addressKey(attempt), MAX_ADDRESS_FAILURES, now),
    );
    if (locked > 0) return { reason: 'failures', seconds: Math.ceil(locked / 1000) };
    if (attempt.known) return undefined;
    this.refill(now);
    if (this.tokens < 1) {
      return { reason: 'busy', seconds: Math.ceil((1 - this.tokens) / GLOBAL_CHECKS_PER_SECOND) };
    }
    this.tokens -= 1;
    return undefined;
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

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.refilledAt) / 1000;
    this.tokens = Math.min(GLOBAL_BURST, this.tokens + elapsed * GLOBAL_CHECKS_PER_SECOND);
    this.refilledAt = now;
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
