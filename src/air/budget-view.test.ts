// The budget view: the cloak's state marked enabled, a sentence when the budget is off, and the limit's bounds.
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.ts';
import type { BudgetState } from '../shared/index.ts';
import { budgetView, MAX_NOTICES_SHOWN, NOTICES_SHOWN, parseNoticeLimit } from './budget-view.ts';
import type { CloakPort } from './cloak-port.ts';

const STATE: BudgetState = {
  rho: 0.1,
  disclosure_rho: 0.0054,
  period_days: 0,
  renews_at: null,
  runs_this_period: 0,
  next_noise_sd: 22,
  disclosures: [],
};

/** A port with only budgetState: the view must not reach for anything else. */
const port = (state: BudgetState | undefined, asked: number[] = []) =>
  ({
    budgetState: (_orgId: string, limit: number) => {
      asked.push(limit);
      return Promise.resolve(state);
    },
  }) as unknown as CloakPort;

describe('the budget view', () => {
  it('marks the cloak’s state enabled and passes the limit on', async () => {
    const asked: number[] = [];
    expect(await budgetView(port(STATE, asked), 'o', 5)).toEqual({ enabled: true, ...STATE });
    expect(asked).toEqual([5]);
  });

  it('says the budget is off when the cloak has none', async () => {
    expect(await budgetView(port(undefined), 'o', 5)).toEqual({
      enabled: false,
      message: expect.stringMatching(/^The participation budget is off on this installation/),
    });
  });

  it('reads a limit from 1 to the maximum, the default when absent, and refuses anything else', () => {
    expect(parseNoticeLimit(undefined)).toBe(NOTICES_SHOWN);
    expect(parseNoticeLimit('1')).toBe(1);
    expect(parseNoticeLimit(` ${MAX_NOTICES_SHOWN} `)).toBe(MAX_NOTICES_SHOWN);
    for (const bad of ['0', String(MAX_NOTICES_SHOWN + 1), '-3', '2.5', 'ten', '', ['1', '2']]) {
      let thrown: unknown;
      try {
        parseNoticeLimit(bad);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(bad)).toBeInstanceOf(AppError);
      expect((thrown as AppError).code).toBe('INVALID_PARAMETER');
    }
  });
});
