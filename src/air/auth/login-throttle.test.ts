// The login throttle: per-account and per-address limits, sliding window, reset on success.
import { describe, expect, it } from 'vitest';
import {
  LoginThrottle,
  MAX_ACCOUNT_FAILURES,
  MAX_ADDRESS_FAILURES,
  WINDOW_MS,
} from './login-throttle.ts';

describe('login throttle', () => {
  it('locks an account after its limit until the oldest counted failure leaves the window', () => {
    const throttle = new LoginThrottle();
    const keys = { account: 'ada', address: '10.0.0.1' };
    for (let i = 0; i < MAX_ACCOUNT_FAILURES; i++) {
      expect(throttle.retryAfterSeconds(keys, 1000 * i)).toBe(0);
      throttle.fail(keys, 1000 * i);
    }
    expect(throttle.retryAfterSeconds(keys, 5000)).toBe((WINDOW_MS - 5000) / 1000);
    expect(
      throttle.retryAfterSeconds({ account: 'ada', address: '10.0.0.2' }, 5000),
    ).toBeGreaterThan(0);
    expect(throttle.retryAfterSeconds(keys, WINDOW_MS + 1)).toBe(0);
  });

  it('locks an address that guesses across many accounts, but not at the per-account limit', () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < MAX_ADDRESS_FAILURES; i++) {
      if (i === MAX_ACCOUNT_FAILURES)
        expect(throttle.retryAfterSeconds({ account: 'new', address: 'a' }, i)).toBe(0);
      throttle.fail({ account: `user${i}`, address: 'a' }, i);
    }
    expect(throttle.retryAfterSeconds({ account: 'fresh', address: 'a' }, 100)).toBeGreaterThan(0);
    expect(throttle.retryAfterSeconds({ account: 'fresh', address: 'b' }, 100)).toBe(0);
  });

  it('clears an account after a successful login', () => {
    const throttle = new LoginThrottle();
    const keys = { account: 'bob', address: 'x' };
    for (let i = 0; i < MAX_ACCOUNT_FAILURES - 1; i++) throttle.fail(keys, i);
    throttle.succeed(keys);
    throttle.fail(keys, 10);
    expect(throttle.retryAfterSeconds(keys, 11)).toBe(0);
  });
});
