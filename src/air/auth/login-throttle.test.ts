// The login limits: lock-out per (account, address), failures per address, a global budget, known addresses exempt.
import { describe, expect, it } from 'vitest';
import {
  GLOBAL_BURST,
  GLOBAL_CHECKS_PER_SECOND,
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
/** Far enough apart that the global budget never runs out (tested on its own below). */
const SPACED_MS = 1000;

describe('login throttle', () => {
  it('locks an (account, address) pair after its limit until the oldest counted failure leaves the window', () => {
    const throttle = new LoginThrottle();
    const ada = attempt('ada', '10.0.0.1');
    for (let i = 0; i < MAX_PAIR_FAILURES; i++) {
      expect(throttle.admit(ada, SPACED_MS * i)).toBeUndefined();
      throttle.fail(ada, SPACED_MS * i);
    }
    const at = SPACED_MS * MAX_PAIR_FAILURES;
    expect(throttle.admit(ada, at)).toEqual({
      reason: 'failures',
      seconds: (WINDOW_MS - at) / 1000,
    });
    expect(throttle.admit(ada, WINDOW_MS + 1)).toBeUndefined();
  });

  it('does not lock the same account out of another address', () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < MAX_PAIR_FAILURES * 3; i++) throttle.fail(attempt('ada', '10.0.0.1'), i);
    expect(throttle.admit(attempt('ada', '10.0.0.2'), SPACED_MS)).toBeUndefined();
  });

  it('locks an address that guesses across many accounts, but not at the per-pair limit', () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < MAX_ADDRESS_FAILURES; i++) {
      if (i === MAX_PAIR_FAILURES) expect(throttle.admit(attempt('new', 'a'), i)).toBeUndefined();
      throttle.fail(attempt(`user${i}`, 'a'), i);
    }
    expect(throttle.admit(attempt('fresh', 'a'), SPACED_MS)?.reason).toBe('failures');
    expect(throttle.admit(attempt('fresh', 'b'), 2 * SPACED_MS)).toBeUndefined();
    // ... except for an account that logged in from there before.
    expect(throttle.admit(attempt('fresh', 'a', true), 3 * SPACED_MS)).toBeUndefined();
  });

  it('still locks a known pair after its own failures', () => {
    const throttle = new LoginThrottle();
    const known = attempt('ada', 'home', true);
    for (let i = 0; i < MAX_PAIR_FAILURES; i++) throttle.fail(known, i);
    expect(throttle.admit(known, SPACED_MS)?.reason).toBe('failures');
  });

  it('spends a global budget on attempts from unknown addresses, refilled over time, and lets known ones through', () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < GLOBAL_BURST; i++) {
      expect(throttle.admit(attempt(`u${i}`, `10.0.0.${i}`), 0)).toBeUndefined();
    }
    expect(throttle.admit(attempt('x', '10.1.0.1'), 0)).toEqual({ reason: 'busy', seconds: 1 });
    expect(throttle.admit(attempt('ada', 'home', true), 0)).toBeUndefined();
    expect(
      throttle.admit(attempt('x', '10.1.0.1'), 1000 / GLOBAL_CHECKS_PER_SECOND),
    ).toBeUndefined();
    expect(throttle.admit(attempt('x', '10.1.0.1'), 1000 / GLOBAL_CHECKS_PER_SECOND)?.reason).toBe(
      'busy',
    );
  });

  it('clears a pair after a successful login', () => {
    const throttle = new LoginThrottle();
    const bob = attempt('bob', 'x');
    for (let i = 0; i < MAX_PAIR_FAILURES - 1; i++) throttle.fail(bob, i);
    throttle.succeed(bob);
    throttle.fail(bob, 10);
    expect(throttle.admit(bob, SPACED_MS)).toBeUndefined();
  });
});
