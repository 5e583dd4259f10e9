// The global login budget: a share of time for checks, reserved before and settled after each one.
import { describe, expect, it } from 'vitest';
import { BURST_SECONDS, CHECK_SHARE, CheckBudget, FIRST_ESTIMATE_SECONDS } from './check-budget.ts';

describe('check budget', () => {
  it('admits checks worth its burst at once, then refuses with the seconds until the balance is back', () => {
    const budget = new CheckBudget();
    const admitted = Math.ceil(BURST_SECONDS / FIRST_ESTIMATE_SECONDS - 1e-9);
    for (let i = 0; i < admitted; i++) expect(budget.reserve(0)).toHaveProperty('reserved');
    const refused = budget.reserve(0);
    expect(refused).toHaveProperty('waitSeconds');
    const { waitSeconds } = refused as { waitSeconds: number };
    expect(waitSeconds).toBeGreaterThanOrEqual(1);
    expect(budget.reserve(waitSeconds * 1000)).toHaveProperty('reserved');
  });

  it('still admits checks that take longer than the whole burst, a share of the time apart', () => {
    const budget = new CheckBudget();
    const took = 4 * BURST_SECONDS;
    let t = 0;
    for (let i = 0; i < 5; i++) {
      let r = budget.reserve(t);
      while (!('reserved' in r)) {
        t += r.waitSeconds * 1000;
        r = budget.reserve(t);
      }
      budget.settle(r.reserved, took);
    }
    // Five checks of `took` seconds at CHECK_SHARE take about 5 * took / share of time.
    expect(t / 1000).toBeGreaterThanOrEqual((4 * took - BURST_SECONDS) / CHECK_SHARE);
    expect(t / 1000).toBeLessThan((5 * took) / CHECK_SHARE + 5);
  });

  it('charges what checks really took, so slow checks (a busy machine) admit fewer', () => {
    const fast = new CheckBudget();
    const slow = new CheckBudget();
    const count = (budget: CheckBudget, tookSeconds: number) => {
      let admitted = 0;
      for (let t = 0; t < 60_000; t += 100) {
        const r = budget.reserve(t);
        if ('reserved' in r) {
          admitted++;
          budget.settle(r.reserved, tookSeconds);
        }
      }
      return admitted;
    };
    const fastCount = count(fast, 0.05);
    const slowCount = count(slow, 0.5);
    // A minute at CHECK_SHARE: about 60 * share / took checks each, plus the burst.
    expect(fastCount).toBeGreaterThan(0.8 * ((60 * CHECK_SHARE) / 0.05));
    expect(fastCount).toBeLessThan(((60 * CHECK_SHARE + BURST_SECONDS) / 0.05) * 1.01 + 1);
    expect(slowCount).toBeLessThan(((60 * CHECK_SHARE + BURST_SECONDS) / 0.5) * 1.01 + 2);
  });

  it('gives back a reservation that was not used', () => {
    const budget = new CheckBudget();
    for (let i = 0; i < 100; i++) {
      const r = budget.reserve(0);
      expect(r).toHaveProperty('reserved');
      budget.settle((r as { reserved: number }).reserved, 0);
    }
  });
});
