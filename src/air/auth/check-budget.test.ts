// The global login budget: a share of time for failed checks, reserved before and settled after each one.
import { describe, expect, it } from 'vitest';
import { CheckBudget, FIRST_ESTIMATE_SECONDS } from './check-budget.ts';

const CHECK_SHARE = 0.05;
const BURST_SECONDS = 0.5;
const LIMITS = { share: CHECK_SHARE, burstSeconds: BURST_SECONDS };

/** Runs failed checks of `tookSeconds` as often as admitted for `seconds`; returns how many ran. */
function flood(budget: CheckBudget, tookSeconds: number, seconds: number) {
  let admitted = 0;
  let t = 0;
  while (t < seconds * 1000) {
    const r = budget.reserve(t);
    if ('reserved' in r) {
      admitted++;
      budget.settle(r.reserved, tookSeconds, true);
    } else {
      t += r.waitSeconds * 1000;
    }
  }
  return admitted;
}

describe('check budget', () => {
  it('admits checks worth its burst at once, then refuses with the seconds until the balance is back', () => {
    const budget = new CheckBudget(LIMITS);
    const admitted = Math.ceil(BURST_SECONDS / FIRST_ESTIMATE_SECONDS - 1e-9);
    for (let i = 0; i < admitted; i++) expect(budget.reserve(0)).toHaveProperty('reserved');
    const refused = budget.reserve(0);
    expect(refused).toHaveProperty('waitSeconds');
    const { waitSeconds } = refused as { waitSeconds: number };
    expect(waitSeconds).toBeGreaterThanOrEqual(1);
    expect(budget.reserve(waitSeconds * 1000)).toHaveProperty('reserved');
  });

  it('charges what failed checks really took, so slow checks (a busy machine) admit fewer', () => {
    const minute = 60;
    const fast = flood(new CheckBudget(LIMITS), 0.05, minute);
    const slow = flood(new CheckBudget(LIMITS), 0.5, minute);
    // About (minute * share + burst) / took checks each, give or take one.
    expect(fast).toBeGreaterThan((0.8 * minute * CHECK_SHARE) / 0.05);
    expect(fast).toBeLessThanOrEqual((minute * CHECK_SHARE + BURST_SECONDS) / 0.05 + 1);
    expect(slow).toBeLessThanOrEqual((minute * CHECK_SHARE + BURST_SECONDS) / 0.5 + 1);
  });

  it('still admits failed checks that take longer than the whole burst', () => {
    expect(flood(new CheckBudget(LIMITS), 4 * BURST_SECONDS, 120)).toBeGreaterThan(1);
  });

  it('does not charge successful logins, nor a reservation that was not used', () => {
    const budget = new CheckBudget(LIMITS);
    for (let i = 0; i < 100; i++) {
      const r = budget.reserve(0) as { reserved: number };
      expect(r).toHaveProperty('reserved');
      budget.settle(r.reserved, i % 2 ? 0.5 : 0, false);
    }
  });
});
