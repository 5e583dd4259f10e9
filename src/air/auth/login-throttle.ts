// Login limits: lock-out per (account, address) and failures per address (the global budget: check-budget.ts).
import type { SqlDb } from '../../store/index.ts';

/** Failures of one account from one address before that pair is locked out. */
export const MAX_PAIR_FAILURES = 5;
/** Higher than per pair: many people may share one address (an office behind NAT). */
export const MAX_ADDRESS_FAILURES = 50;
export const WINDOW_MS = 15 * 60_000;

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
 * address. The counts live in the air database (`login_failures`): API servers that share a
 * PostgreSQL database count together, so a second server does not double the limits, and a
 * restart does not reset them. A login already costs a password check (~50 ms), so the two or
 * three small statements here do not show.
 */
export class LoginThrottle {
  constructor(private readonly db: SqlDb) {}

  /** Seconds until this attempt may be checked, or 0 when it may be now. */
  async retryAfterSeconds(attempt: LoginAttempt, now = Date.now()): Promise<number> {
    const wait = Math.max(
      await this.wait(pairKey(attempt), MAX_PAIR_FAILURES, now),
      attempt.known ? 0 : await this.wait(addressKey(attempt), MAX_ADDRESS_FAILURES, now),
    );
    return Math.ceil(wait / 1000);
  }

  async fail(attempt: LoginAttempt, now = Date.now()): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Failures outside the window never count again: dropping them keeps the table small.
      await tx.run('DELETE FROM login_failures WHERE at <= ?', [now - WINDOW_MS]);
      for (const key of [pairKey(attempt), addressKey(attempt)]) {
        await tx.run('INSERT INTO login_failures (key, at) VALUES (?, ?)', [key, now]);
      }
    });
  }

  /** A successful login clears its pair's failures; the address keeps its count. */
  async succeed(attempt: LoginAttempt): Promise<void> {
    await this.db.run('DELETE FROM login_failures WHERE key = ?', [pairKey(attempt)]);
  }

  /** Until the `limit`-th most recent failure in the window leaves it; 0 below the limit. */
  private async wait(key: string, limit: number, now: number): Promise<number> {
    const row = await this.db.get<{ at: number }>(
      'SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?',
      [key, now - WINDOW_MS, limit - 1],
    );
    return row ? row.at + WINDOW_MS - now : 0;
  }
}

const pairKey = (a: LoginAttempt) => `pair:${a.account}\n${a.address}`;
const addressKey = (a: LoginAttempt) => `address:${a.address}`;
