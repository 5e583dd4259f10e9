// The participation budget: how much fresh noisy information about one user one organisation gets.
import type { AnonymizerSettings, UserKey } from '../anonymizer/index.ts';
import type { BudgetNotice } from '../shared/index.ts';
import { statementCache, type Db } from '../store/index.ts';
import {
  userHash,
  type BudgetLedger,
  type FirstSettled,
  type RunNumbers,
  type UserState,
} from './budget-account.ts';
import { budgetNotice } from './budget-disclosure.ts';
import { settleRun, type Settlement } from './budget-settlement.ts';
import { ParticipationRun } from './participation-run.ts';
import type { UserLogOptions } from './user-log.ts';

export { ParticipationRun } from './participation-run.ts';
export type { SettledBucket, Settlement } from './budget-settlement.ts';

/*
 * Why. Sticky noise stops averaging one bucket, but every bucket with another user set or label
 * draws fresh noise, and an analyst can write one task (or many) that puts a victim into hundreds
 * of buckets whose other members are known: label minting, accomplice averaging, random-subset
 * reconstruction (test/attacks/). Each fresh draw of sd `s` tells the analyst about one user what
 * a Gaussian mechanism of sensitivity 1 does, a zCDP loss of 1 / (2 s^2); the losses add up.
 *
 * What. Per (organisation, user) the cloak keeps the loss spent so far. A bucket above the
 * absolute floor that this organisation has never been shown (a new pair of bucket identity and
 * user set) costs each member 1 / (2 sd^2), sd the anonymizer's count-noise sd at the count that
 * is published (not the count that asked: budget-settlement.ts): small buckets (sd 3) cost 0.056,
 * a bucket of 10,000 users (sd 33) 0.00045. The suppression bucket "*" is charged the same way. A
 * user who cannot afford a fresh bucket is exhausted from then on: left out of every fresh bucket
 * of this organisation (still counted in buckets it has already been shown, so that reruns match).
 *
 * Sticky reruns cost nothing. A bucket is known by a hash of its identity and the fingerprint of
 * the users who reported it, with the position (run, index) at which it was first settled. When
 * the same bucket comes again, the users exhausted before that position are left out again and
 * nobody is charged: the same task over the same data publishes the same result for free.
 *
 * Order. Fresh buckets of a run are settled in the order of their hash, which depends on the
 * installation secret (through the user keys), so an analyst cannot choose which of a user's
 * buckets the budget keeps.
 *
 * Periods. By default the budget never renews. An operator may set a period (privacy.
 * budgetPeriodDays): then every (organisation, user) starts each period with the whole budget
 * again, and buckets settled in an earlier period are fresh (charged) again. The guarantee is then
 * per period, not for ever (docs/anonymization.md, "Budget periods").
 *
 * Disclosure. Each run also publishes noisy counts of the users it left out and of the users who
 * have run out (budget-disclosure.ts), so that counts are never low without the answer saying so.
 *
 * Everything is settled in one synchronous step after the sandbox has run every user, in one
 * transaction: two runs of one organisation cannot interleave their charges. Given the prices, a
 * user's charges depend only on their own state and buckets, taken in that order, so each pass
 * goes user by user (a few hundred per statement) and memory stays per bucket, not per user.
 */

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS budget_runs (
    org_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL,
    period INTEGER NOT NULL DEFAULT 0,
    period_runs INTEGER NOT NULL DEFAULT 0,
    period_first_seq INTEGER NOT NULL DEFAULT 1
  ) STRICT;
  CREATE TABLE IF NOT EXISTS budget_buckets (
    org_id TEXT NOT NULL,
    hash BLOB NOT NULL,
    seq INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    basis INTEGER,
    PRIMARY KEY (org_id, hash)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS budget_users (
    org_id TEXT NOT NULL,
    user_hash BLOB NOT NULL,
    spent REAL NOT NULL,
    exhausted_seq INTEGER,
    exhausted_idx INTEGER,
    period INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, user_hash)
  ) STRICT, WITHOUT ROWID;
`;

/** Columns added since the first release, for cloak.db files made before them. */
const ADDED_COLUMNS: ReadonlyArray<[table: string, column: string, definition: string]> = [
  ['budget_buckets', 'basis', 'INTEGER'],
  ['budget_runs', 'period', 'INTEGER NOT NULL DEFAULT 0'],
  ['budget_runs', 'period_runs', 'INTEGER NOT NULL DEFAULT 0'],
  ['budget_runs', 'period_first_seq', 'INTEGER NOT NULL DEFAULT 1'],
  ['budget_users', 'period', 'INTEGER NOT NULL DEFAULT 0'],
];

const DAY_MS = 86_400_000;

export interface ParticipationBudgetOptions extends UserLogOptions {
  /** Total zCDP-like loss per (organisation, user) for buckets; see docs/anonymization.md. */
  rho: number;
  /** The installation's noise secret: keys the disclosures' noise. */
  secret: Uint8Array;
  /** Days after which every budget renews (periods start at multiples of it since 1970); 0: never. */
  periodDays?: number;
  /** The clock, for tests of periods. */
  now?: () => number;
}

/** A settlement and what the run says about the budget. */
export interface BudgetedSettlement extends Settlement {
  notice: BudgetNotice;
}

interface BudgetRow {
  user_hash: Buffer;
  spent: number;
  exhausted_seq: number | null;
  exhausted_idx: number | null;
}

/** The budget of every (organisation, user), in cloak.db. */
export class ParticipationBudget implements BudgetLedger {
  readonly #sql: ReturnType<typeof statementCache>;

  constructor(
    private readonly db: Db,
    readonly options: Readonly<ParticipationBudgetOptions>,
  ) {
    if (!(options.rho > 0) || !Number.isFinite(options.rho)) {
      throw new RangeError(
        `the participation budget must be a finite number > 0, got ${options.rho}`,
      );
    }
    const periodDays = options.periodDays ?? 0;
    if (!(Number.isInteger(periodDays) && periodDays >= 0)) {
      throw new RangeError(
        `the budget period must be a whole number of days >= 0, got ${periodDays}`,
      );
    }
    db.exec(SCHEMA);
    // Buckets settled before noise counts were stored had their count's noise (basis null); rows
    // from before periods belong to period 0, which is the only one when the budget never renews.
    for (const [table, column, definition] of ADDED_COLUMNS) {
      const columns = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
      if (!columns.some((c) => c.name === column)) {
        db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
      }
    }
    this.#sql = statementCache(db);
  }

  /** The current budget period: 0 when the budget never renews. */
  period(): number {
    const days = this.options.periodDays ?? 0;
    return days === 0 ? 0 : Math.floor((this.options.now ?? Date.now)() / (days * DAY_MS));
  }

  /** When the current period ends, or undefined when the budget never renews. */
  renewsAt(): number | undefined {
    const days = this.options.periodDays ?? 0;
    return days === 0 ? undefined : (this.period() + 1) * days * DAY_MS;
  }

  /**
   * Collects one run's contributions; `settle` then charges the budget and builds the aggregate.
   * With the noise secret it also settles the suppression bucket, which needs to know what is
   * published (task runs; streaming reports have no suppression bucket).
   */
  startRun(
    orgId: string,
    settings: Readonly<AnonymizerSettings>,
    secret?: Uint8Array,
  ): ParticipationRun<BudgetedSettlement> {
    return new ParticipationRun(
      (collected) =>
        this.db
          .transaction(() => {
            const input = { orgId, rho: this.options.rho, settings, collected };
            const settlement = settleRun(this, secret ? { ...input, secret } : input);
            return { ...settlement, notice: this.#notice(orgId, settlement) };
          })
          .immediate(),
      this.options.memoryBytes === undefined ? {} : { memoryBytes: this.options.memoryBytes },
    );
  }

  #notice(orgId: string, { run, leftOut }: Settlement): BudgetNotice {
    return budgetNotice(this.options.secret, {
      orgId,
      periodRun: run.periodRun,
      seq: run.seq,
      leftOut,
      exhausted: this.exhaustedCount(orgId, run.period),
      renewsAt: this.renewsAt(),
    });
  }

  /** The loss spent by one user (by user key) in this period, for tests and operators. */
  spent(orgId: string, user: UserKey): number {
    const row = this.#sql(
      'SELECT spent FROM budget_users WHERE org_id = ? AND user_hash = ? AND period = ?',
    ).get(orgId, userHash(user), this.period()) as { spent: number } | undefined;
    return row?.spent ?? 0;
  }

  nextSeq(orgId: string): RunNumbers {
    const period = this.period();
    const row = this.#sql(
      `INSERT INTO budget_runs (org_id, last_seq, period, period_runs, period_first_seq)
       VALUES (@orgId, 1, @period, 1, 1)
       ON CONFLICT (org_id) DO UPDATE SET
         last_seq = last_seq + 1,
         period_runs = CASE WHEN period = @period THEN period_runs + 1 ELSE 1 END,
         period_first_seq = CASE WHEN period = @period THEN period_first_seq ELSE last_seq + 1 END,
         period = @period
       RETURNING last_seq, period_runs, period_first_seq`,
    ).get({ orgId, period }) as {
      last_seq: number;
      period_runs: number;
      period_first_seq: number;
    };
    return {
      seq: row.last_seq,
      period,
      periodRun: row.period_runs,
      periodFirstSeq: row.period_first_seq,
    };
  }

  exhaustedCount(orgId: string, period: number): number {
    const row = this.#sql(
      `SELECT count(*) AS n FROM budget_users
       WHERE org_id = ? AND period = ? AND exhausted_seq IS NOT NULL`,
    ).get(orgId, period) as { n: number };
    return row.n;
  }

  known(orgId: string, hash: Buffer): FirstSettled | undefined {
    return this.#sql(
      'SELECT seq, idx, basis FROM budget_buckets WHERE org_id = ? AND hash = ?',
    ).get(orgId, hash) as FirstSettled | undefined;
  }

  remember(orgId: string, hash: Buffer, { seq, idx, basis }: FirstSettled): void {
    this.#sql(
      // A bucket from an earlier period is settled again: its row moves to this one.
      `INSERT INTO budget_buckets (org_id, hash, seq, idx, basis) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (org_id, hash) DO UPDATE SET seq = excluded.seq, idx = excluded.idx,
         basis = excluded.basis`,
    ).run(orgId, hash, seq, idx, basis);
  }

  tentatively<T>(fn: () => T): T {
    // Inside the settlement's transaction this is a savepoint.
    return this.db.transaction(fn)();
  }

  hasUsers(orgId: string): boolean {
    return (
      this.#sql('SELECT 1 FROM budget_users WHERE org_id = ? LIMIT 1').get(orgId) !== undefined
    );
  }

  loadStates(orgId: string, period: number, users: readonly UserKey[]): Map<string, UserState> {
    const states = new Map<string, UserState>();
    if (users.length === 0) return states;
    const rows = this.#sql(
      `SELECT user_hash, spent, exhausted_seq, exhausted_idx FROM budget_users
       WHERE org_id = ? AND period = ? AND user_hash IN (${users.map(() => '?').join(', ')})`,
    ).all(orgId, period, ...users.map(userHash)) as BudgetRow[];
    for (const row of rows) {
      states.set(row.user_hash.toString('latin1'), {
        spent: row.spent,
        exhausted:
          row.exhausted_seq === null ? undefined : [row.exhausted_seq, row.exhausted_idx ?? 0],
        dirty: false,
      });
    }
    return states;
  }

  /**
   * One prepared single-row upsert per user: inside the settlement's transaction this is faster
   * than multi-row statements (100,000 fresh users: about 180 ms against 350 ms), which pay for
   * binding thousands of parameters and for inserting their rows at random places in the tree.
   */
  saveStates(orgId: string, period: number, dirty: ReadonlyArray<[UserKey, UserState]>): void {
    const upsert = this.#sql(
      `INSERT INTO budget_users (org_id, user_hash, spent, exhausted_seq, exhausted_idx, period)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (org_id, user_hash) DO UPDATE SET spent = excluded.spent,
         exhausted_seq = excluded.exhausted_seq, exhausted_idx = excluded.exhausted_idx,
         period = excluded.period`,
    );
    for (const [key, s] of dirty) {
      const [seq, idx] = s.exhausted ?? [null, null];
      upsert.run(orgId, userHash(key), s.spent, seq, idx, period);
    }
  }
}
