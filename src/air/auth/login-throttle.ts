// Login rate limiting: too many failures for one account, or from one address, lock it out for a while.
export const MAX_ACCOUNT_FAILURES = 5;
/** Higher than per account: many people may share one address (an office behind NAT). */
export const MAX_ADDRESS_FAILURES = 50;
export const WINDOW_MS = 15 * 60_000;

export interface ThrottleKeys {
  account: string;
  address: string;
}

/**
 * Failures are counted per account and per client address, so neither a guesser spreading tries
 * over many accounts nor many addresses on one account gets far. In memory: a restart resets it,
 * and several processes would each keep their own (a documented limitation).
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  /** Seconds until another try is allowed, or 0 when it is allowed now. */
  retryAfterSeconds(keys: ThrottleKeys, now = Date.now()): number {
    const wait = Math.max(
      this.wait(`account:${keys.account}`, MAX_ACCOUNT_FAILURES, now),
      this.wait(`address:${keys.address}`, MAX_ADDRESS_FAILURES, now),
    );
    return Math.ceil(wait / 1000);
  }

  fail(keys: ThrottleKeys, now = Date.now()): void {
    for (const key of [`account:${keys.account}`, `address:${keys.address}`]) {
      this.failures.set(key, [...this.recent(key, now), now]);
    }
  }

  /** A successful login clears its account's failures; the address keeps its count. */
  succeed(keys: ThrottleKeys): void {
    this.failures.delete(`account:${keys.account}`);
  }

  private wait(key: string, limit: number, now: number): number {
    const recent = this.recent(key, now);
    return recent.length >= limit ? recent[recent.length - limit]! + WINDOW_MS - now : 0;
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((at) => now - at < WINDOW_MS);
  }
}
