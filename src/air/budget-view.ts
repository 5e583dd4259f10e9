// What the air shows of an organisation's participation budget (API, site, CLI): the cloak's state, or why there is none.
import { AppError } from '../errors/index.ts';
import type { BudgetState } from '../shared/index.ts';
import type { CloakPort } from './cloak-port.ts';

/** Notices listed when the caller does not say: enough to see a trend over a period. */
export const NOTICES_SHOWN = 20;
/** The most notices one request lists. */
export const MAX_NOTICES_SHOWN = 100;

/** The budget state, marked enabled; or, when the budget is off, a sentence saying so. */
export type BudgetView = ({ enabled: true } & BudgetState) | { enabled: false; message: string };

const BUDGET_OFF =
  'The participation budget is off on this installation (privacy.participationBudget): runs are ' +
  'not charged, nobody is left out, and results carry no budget notice.';

/**
 * `limit`: how many of the latest notices to list (default NOTICES_SHOWN), a 422 otherwise. `name`
 * is what the refusal calls it: the query parameter, or the command line's `--limit`.
 */
export function parseNoticeLimit(raw: unknown, name = '"limit"'): number {
  if (raw === undefined) return NOTICES_SHOWN;
  const text = typeof raw === 'string' ? raw.trim() : '';
  const value = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && value <= MAX_NOTICES_SHOWN)) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `${name} must be a whole number from 1 to ${MAX_NOTICES_SHOWN} (how many of the latest budget notices to list); got ${JSON.stringify(raw)}.`,
    });
  }
  return value;
}

/**
 * Nothing here is computed from users: the cloak's state holds settings, the count of notices
 * (runs and previews the organisation started) and notices already published.
 */
export async function budgetView(
  cloak: CloakPort,
  orgId: string,
  limit: number,
): Promise<BudgetView> {
  const state = await cloak.budgetState(orgId, limit);
  return state ? { enabled: true, ...state } : { enabled: false, message: BUDGET_OFF };
}
