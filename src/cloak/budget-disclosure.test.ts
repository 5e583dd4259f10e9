// A budgeted run says how many users the budget left out: noisy, on a schedule of bounded total cost, and per period.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteDb, type SqliteSqlDb } from '../store/index.ts';
import {
  budgetNotice,
  DISCLOSURE_FIRST_SD,
  DISCLOSURE_RHO,
  disclosureSd,
} from './budget-disclosure.ts';
import { ParticipationBudget } from './participation-budget.ts';
import {
  DAY_MS,
  keys,
  ONE_SMALL_BUCKET,
  run,
  SECRET,
  small,
  SMALL_COST,
  total,
} from './budget-test-support.ts';

describe('the disclosure schedule', () => {
  it('grows the noise run by run so that all runs of a period together cost at most DISCLOSURE_RHO', async () => {
    expect(disclosureSd(1)).toBe(DISCLOSURE_FIRST_SD);
    let total = 0;
    let growing = true;
    for (let k = 1; k <= 1_000_000; k++) {
      growing &&= disclosureSd(k + 1) > disclosureSd(k);
      total += 1 / disclosureSd(k) ** 2; // two figures of sensitivity 1: 2 / (2 sd^2)
    }
    expect(growing).toBe(true);
    expect(total).toBeLessThan(DISCLOSURE_RHO);
    expect(total).toBeGreaterThan(0.95 * DISCLOSURE_RHO);
  });

  it('cannot tell one victim left out from not: the best cut over 400 runs guesses about half', async () => {
    // Two worlds that differ by one user left out, each disclosed 400 times (fresh runs).
    const notices = (leftOut: number) =>
      Array.from(
        { length: 400 },
        (_, seq) =>
          budgetNotice(SECRET, {
            orgId: 'o',
            periodRun: 1,
            seq: seq + 1,
            leftOut,
            exhausted: 50,
            renewsAt: undefined,
          }).users_left_out,
      );
    const without = notices(50);
    const withVictim = notices(51);
    let best = 0;
    for (const cut of new Set([...without, ...withVictim])) {
      const right =
        withVictim.filter((x) => x >= cut).length + without.filter((x) => x < cut).length;
      best = Math.max(best, right / 800);
    }
    expect(best).toBeLessThan(0.56);
    // Yet the figure is about right: its mean is within 4 sd / sqrt(400) of the truth.
    const mean = without.reduce((a, b) => a + b, 0) / without.length;
    expect(Math.abs(mean - 50)).toBeLessThan((4 * DISCLOSURE_FIRST_SD) / 20 + 2.5);
  });
});

describe('a budgeted run’s notice', () => {
  let db: SqliteSqlDb;
  beforeEach(() => {
    db = openSqliteDb(':memory:');
  });
  afterEach(async () => db.close());

  it('says so when the budget left users out, and not when it left no one out', async () => {
    const budget = new ParticipationBudget(db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    const crowd = keys(1_000, 'c');
    const first = await run(budget, small('first', crowd));
    expect(total(first.counts, 'first')).toBe(1_000);
    expect(first.leftOut).toBe(0);
    expect(first.notice.may_be_low).toBe(false);
    expect(first.notice.message).toMatch(
      /^Too few users left out by the participation budget to show/,
    );
    // Everyone has spent their one small bucket: a second, fresh one leaves all 1,000 out.
    const second = await run(budget, small('second', crowd));
    expect(total(second.counts, 'second')).toBe(0);
    expect(second.leftOut).toBe(1_000);
    expect(second.notice).toMatchObject({ may_be_low: true, period_run: 2, renews_at: null });
    expect(Math.abs(second.notice.users_left_out - 1_000)).toBeLessThan(4 * disclosureSd(2) + 5);
    expect(Math.abs(second.notice.users_exhausted - 1_000)).toBeLessThan(4 * disclosureSd(2) + 5);
    expect(second.notice.message).toMatch(/left out of this task's buckets .* may be low/);
  });

  it('counts a user left out of several buckets once, and a rerun of an old bucket leaves them out again', async () => {
    const budget = new ParticipationBudget(db, { rho: ONE_SMALL_BUCKET, secret: SECRET });
    const group = keys(400, 'g');
    await run(budget, small('a', group));
    const others = keys(400, 'h');
    // The group asks two fresh small buckets more each; the others are fresh and pay for one.
    const task = () => [...small('b', others), ...small('c', group), ...small('d', group)];
    const next = await run(budget, task());
    expect(next.leftOut).toBe(400);
    expect(total(next.counts, 'b')).toBe(400);
    expect(total(next.counts, 'c') + total(next.counts, 'd')).toBe(0);
    // A rerun leaves the same 400 out of the same buckets again, and says so again.
    const rerun = await run(budget, task());
    expect(rerun.leftOut).toBe(400);
    expect(rerun.counts).toEqual(next.counts);
  });

  it('renews every budget at the start of each period, where the noise starts small again', async () => {
    let now = 10 * DAY_MS + 5;
    const budget = new ParticipationBudget(db, {
      rho: ONE_SMALL_BUCKET,
      secret: SECRET,
      periodDays: 7,
      now: () => now,
    });
    const group = keys(500, 'p');
    expect(total((await run(budget, small('week', group))).counts, 'week')).toBe(500);
    const spentOut = await run(budget, small('week2', group));
    expect(total(spentOut.counts, 'week2')).toBe(0);
    expect(spentOut.notice.renews_at).toBe(14 * DAY_MS);
    now = 14 * DAY_MS;
    // A new period: the whole budget again, and the first disclosure's small noise.
    const renewed = await run(budget, small('week2', group));
    expect(total(renewed.counts, 'week2')).toBe(500);
    expect(renewed.leftOut).toBe(0);
    expect(renewed.notice.period_run).toBe(1);
    expect(await budget.spent('o', group[0]!)).toBeCloseTo(SMALL_COST, 10);
    // A bucket first shown last period is charged again, not free: the spending it was free
    // against has been reset.
    const again = await run(budget, small('week', group));
    expect(total(again.counts, 'week')).toBe(0);
    expect(again.leftOut).toBe(500);
  });

  it('refuses a period that is not a whole number of days', async () => {
    expect(() => new ParticipationBudget(db, { rho: 1, secret: SECRET, periodDays: 0.5 })).toThrow(
      /whole number of days/,
    );
  });
});
