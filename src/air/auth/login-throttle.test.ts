// The login limits: lock-out per (account, address), failures per address, known addresses exempt from the latter; on both dialects, shared by servers on one database.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresDb } from '../../store/index.ts';
import { TEST_DIALECTS, type TestDb } from '../../store/test-support.ts';
import { airStoreOn } from '../store/index.ts';
import {
  LoginThrottle,
  MAX_ADDRESS_FAILURES,
  MAX_PAIR_FAILURES,
  WINDOW_MS,
  type LoginAttempt,
} from './login-throttle.ts';

const attempt = (account: string, address: string, known = false): LoginAttempt => ({
  account,
  address,
  known,
});
const SPACED_MS = 1000;

describe.each(TEST_DIALECTS)('login throttle on $dialect', ({ dialect, open }) => {
  let testDb: TestDb;
  let throttle: LoginThrottle;
  beforeEach(async () => {
    testDb = await open();
    throttle = (await airStoreOn(testDb.db)).loginThrottle;
  });
  afterEach(() => testDb.cleanup());

  it('locks an (account, address) pair after its limit until the oldest counted failure leaves the window', async () => {
    const ada = attempt('ada', '10.0.0.1');
    for (let i = 0; i < MAX_PAIR_FAILURES; i++) {
      expect(await throttle.retryAfterSeconds(ada, SPACED_MS * i)).toBe(0);
      await throttle.fail(ada, SPACED_MS * i);
    }
    const at = SPACED_MS * MAX_PAIR_FAILURES;
    expect(await throttle.retryAfterSeconds(ada, at)).toBe(WINDOW_MS / 1000 - MAX_PAIR_FAILURES);
    expect(await throttle.retryAfterSeconds(ada, WINDOW_MS + 1)).toBe(0);
  });

  it('does not lock the same account out of another address', async () => {
    for (let i = 0; i < MAX_PAIR_FAILURES * 3; i++) {
      await throttle.fail(attempt('ada', '10.0.0.1'), i);
    }
    expect(await throttle.retryAfterSeconds(attempt('ada', '10.0.0.2'), SPACED_MS)).toBe(0);
  });

  it('locks an address that guesses across many accounts, but not at the per-pair limit', async () => {
    for (let i = 0; i < MAX_ADDRESS_FAILURES; i++) {
      if (i === MAX_PAIR_FAILURES) {
        expect(await throttle.retryAfterSeconds(attempt('new', 'a'), i)).toBe(0);
      }
      await throttle.fail(attempt(`user${i}`, 'a'), i);
    }
    expect(await throttle.retryAfterSeconds(attempt('fresh', 'a'), SPACED_MS)).toBeGreaterThan(0);
    expect(await throttle.retryAfterSeconds(attempt('fresh', 'b'), 2 * SPACED_MS)).toBe(0);
    // ... except for an account that logged in from there before.
    expect(await throttle.retryAfterSeconds(attempt('fresh', 'a', true), 3 * SPACED_MS)).toBe(0);
  });

  it('still locks a known pair after its own failures', async () => {
    const known = attempt('ada', 'home', true);
    for (let i = 0; i < MAX_PAIR_FAILURES; i++) await throttle.fail(known, i);
    expect(await throttle.retryAfterSeconds(known, SPACED_MS)).toBeGreaterThan(0);
  });

  it('clears a pair after a successful login', async () => {
    const bob = attempt('bob', 'x');
    for (let i = 0; i < MAX_PAIR_FAILURES - 1; i++) await throttle.fail(bob, i);
    await throttle.succeed(bob);
    await throttle.fail(bob, 10);
    expect(await throttle.retryAfterSeconds(bob, SPACED_MS)).toBe(0);
  });

  it('forgets failures that left the window, so the table does not grow with old floods', async () => {
    for (let i = 0; i < MAX_PAIR_FAILURES; i++) await throttle.fail(attempt(`u${i}`, 'old'), i);
    await throttle.fail(attempt('ada', 'new'), WINDOW_MS + MAX_PAIR_FAILURES);
    const row = await testDb.db.get<{ n: number }>('SELECT count(*) AS n FROM login_failures');
    expect(row!.n).toBe(2);
  });

  it.runIf(dialect === 'postgres')(
    'counts failures on two API servers of one database together',
    async () => {
      // A second connection pool on the same database stands for a second server.
      const second = openPostgresDb(testDb.address);
      try {
        const other = (await airStoreOn(second)).loginThrottle;
        const ada = attempt('ada', '10.0.0.1');
        const now = Date.now();
        for (let i = 0; i < MAX_PAIR_FAILURES; i++) {
          await (i % 2 === 0 ? throttle : other).fail(ada, now + i);
        }
        // Neither server alone saw five failures; together they did, and both refuse.
        expect(await throttle.retryAfterSeconds(ada, now + MAX_PAIR_FAILURES)).toBeGreaterThan(0);
        expect(await other.retryAfterSeconds(ada, now + MAX_PAIR_FAILURES)).toBeGreaterThan(0);
        // A login on one server clears the pair for both.
        await other.succeed(ada);
        expect(await throttle.retryAfterSeconds(ada, now + MAX_PAIR_FAILURES)).toBe(0);
      } finally {
        await second.close();
      }
    },
  );
});
