// The login limits: lock-out per (account, address), failures per address, known addresses exempt from the latter.
import { describe, expect, it } from 'vitest';
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

describe('login throttle', () => {
  it('locks an (account, address) pair after its limit until the oldest counted failure leaves the window', () => {
    const throttle = new LoginThrottle();
    const ada = attempt('ada', '10.0.0.1');
    for (let i = 0; i < MAX_PAIR_FAILURES; i++) {
      expect(throttle.retryAfterSeconds(ada, SPACED_MS * i)).toBe(0);
      throttle.fail(ada, SPACED_MS * i);
    }
    const at = SPACED_MS * MAX_PAIR_FAILURES;
    expect(throttle.retryAfterSeconds(ada, at)).toBe(WINDOW_MS / 1000 - MAX_PAIR_FAILURES);
    expect(throttle.retryAfterSeconds(ada, WINDOW_MS + 1)).toBe(0);
  });

  it('does not lock the same account out of another address', () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < MAX_PAIR_FAILURES * 3; i++) throttle.fail(attempt('ada', '10.0.0.1'), i);
    expect(throttle.retryAfterSeconds(attempt('ada', '10.0.0.2'), SPACED_MS)).toBe(0);
  });

  it('locks an address that guesses across many accounts, but not at the per-pair limit', () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < MAX_ADDRESS_FAILURES; i++) {
      if (i === MAX_PAIR_FAILURES)
        expect(throttle.retryAfterSeconds(attempt('new', 'a'), i)).toBe(0);
      throttle.fail(attempt(`user${i}`, 'a'), i);
    }
    expect(throttle.retryAfterSeconds(attempt('fresh', 'a'), SPACED_MS)).toBeGreaterThan(0);
    expect(throttle.retryAfterSeconds(attempt('fresh', 'b'), 2 * SPACED_MS)).toBe(0);
    // ... except for an account that logged in from there before.
    expect(throttle.retryAfterSeconds(attempt('fresh', 'a', true), 3 * SPACED_MS)).toBe(0);
  });

  it('still locks a known pair after its own failures', () => {
    const throttle = new LoginThrottle();
    const known = attempt('ada', 'home', true);
    for (let i = 0; i < MAX_PAIR_FAILURES; i++) throttle.fail(known, i);
    expect(throttle.retryAfterSeconds(known, SPACED_MS)).toBeGreaterThan(0);
  });

  it('clears a pair after a successful login', () => {
    const throttle = new LoginThrottle();
    const bob = attempt('bob', 'x');
    for (let i = 0; i < MAX_PAIR_FAILURES - 1; i++) throttle.fail(bob, i);
    throttle.succeed(bob);
    throttle.fail(bob, 10);
    expect(throttle.retryAfterSeconds(bob, SPACED_MS)).toBe(0);
  });
});
