// The cloak's log of every budget notice it made (runs and cost previews), and the budget state built from it.
import type { BudgetDisclosure, BudgetNotice, BudgetState } from '../shared/index.ts';
import type { SqlDb, SqlExecutor } from '../store/index.ts';
import { DISCLOSURE_RHO, disclosureSd } from './budget-disclosure.ts';
import type { NoticeNumbers } from './budget-ledger.ts';

/*
 * Why a log. A notice's figures were paid for when it was made (its number k in the period, see
 * budget-disclosure.ts), and then handed to the organisation. Showing it again later, on the
 * Budget page or in `opencloak budget`, is post-processing of a published figure: free. So the
 * history of noisy figures is what an organisation can see of its budget, never a fresh count.
 * A notice is logged even when its run then fails before publishing: its k is spent either way.
 * Its time is when its run started, never when it settled: that would time the run.
 */

// The table, budget_disclosures, is migrated with the budget's (budget-schema.ts).

export type DisclosureKind = BudgetDisclosure['kind'];

/** A notice's numbers as its run took them when it started, with that moment. */
export interface TakenNotice extends NoticeNumbers {
  orgId: string;
  /** When the run started (ms since 1970): known to whoever started it. */
  at: number;
}

/** What the budget knows besides the log: its settings and the organisation's run count. */
export interface BudgetSettings {
  rho: number;
  periodDays: number;
  renewsAt: number | undefined;
  /** Notices of the organisation in the current period. */
  runsThisPeriod: number;
}

export class DisclosureLog {
  constructor(private readonly db: SqlDb) {}

  /**
   * Once per notice number, in the settlement's transaction `tx`: a run that never settles logs
   * nothing, but its number is spent.
   */
  async record(
    tx: SqlExecutor,
    orgId: string,
    taken: TakenNotice,
    kind: DisclosureKind,
    notice: BudgetNotice,
  ): Promise<void> {
    await tx.run(
      `INSERT INTO budget_disclosures (org_id, seq, period, period_run, at, kind, notice)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [orgId, taken.seq, taken.period, taken.periodRun, taken.at, kind, JSON.stringify(notice)],
    );
  }

  /** The organisation's latest notices, newest first. */
  async latest(orgId: string, limit: number): Promise<BudgetDisclosure[]> {
    const rows = await this.db.all<{
      period: number;
      at: number;
      kind: DisclosureKind;
      notice: string;
    }>(
      `SELECT period, at, kind, notice FROM budget_disclosures WHERE org_id = ?
       ORDER BY seq DESC LIMIT ?`,
      [orgId, limit],
    );
    return rows.map((r) => ({
      ...(JSON.parse(r.notice) as BudgetNotice),
      kind: r.kind,
      at: r.at,
      period: r.period,
    }));
  }

  async state(orgId: string, settings: BudgetSettings, limit: number): Promise<BudgetState> {
    return {
      rho: settings.rho,
      disclosure_rho: DISCLOSURE_RHO,
      period_days: settings.periodDays,
      renews_at: settings.renewsAt ?? null,
      runs_this_period: settings.runsThisPeriod,
      next_noise_sd: Math.round(disclosureSd(settings.runsThisPeriod + 1)),
      disclosures: await this.latest(orgId, limit),
    };
  }
}
