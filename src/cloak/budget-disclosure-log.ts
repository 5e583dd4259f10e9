// The cloak's log of every budget notice it made (runs and cost previews), and the budget state built from it.
import type { BudgetDisclosure, BudgetNotice, BudgetState } from '../shared/index.ts';
import { statementCache, type Db } from '../store/index.ts';
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

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS budget_disclosures (
    org_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    period INTEGER NOT NULL,
    period_run INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('run', 'preview')),
    notice TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
  ) STRICT, WITHOUT ROWID;
`;

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
  readonly #sql: ReturnType<typeof statementCache>;

  constructor(db: Db) {
    db.exec(SCHEMA);
    this.#sql = statementCache(db);
  }

  /** Once per notice number: a run that never settles logs nothing, but its number is spent. */
  record(orgId: string, taken: TakenNotice, kind: DisclosureKind, notice: BudgetNotice) {
    this.#sql(
      `INSERT INTO budget_disclosures (org_id, seq, period, period_run, at, kind, notice)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(orgId, taken.seq, taken.period, taken.periodRun, taken.at, kind, JSON.stringify(notice));
  }

  /** The organisation's latest notices, newest first. */
  latest(orgId: string, limit: number): BudgetDisclosure[] {
    const rows = this.#sql(
      `SELECT period, at, kind, notice FROM budget_disclosures WHERE org_id = ?
       ORDER BY seq DESC LIMIT ?`,
    ).all(orgId, limit) as Array<{
      period: number;
      at: number;
      kind: DisclosureKind;
      notice: string;
    }>;
    return rows.map((r) => ({
      ...(JSON.parse(r.notice) as BudgetNotice),
      kind: r.kind,
      at: r.at,
      period: r.period,
    }));
  }

  state(orgId: string, settings: BudgetSettings, limit: number): BudgetState {
    return {
      rho: settings.rho,
      disclosure_rho: DISCLOSURE_RHO,
      period_days: settings.periodDays,
      renews_at: settings.renewsAt ?? null,
      runs_this_period: settings.runsThisPeriod,
      next_noise_sd: Math.round(disclosureSd(settings.runsThisPeriod + 1)),
      disclosures: this.latest(orgId, limit),
    };
  }
}
