// The participation budget's storage in cloak.db: users' spending, buckets already settled, run numbers.
import type { UserKey } from '../anonymizer/index.ts';
import { statementCache, type Db } from '../store/index.ts';
import {
  userHash,
  type BudgetLedger,
  type FirstSettled,
  type RunNumbers,
  type UserState,
} from './budget-account.ts';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS budget_runs (
    org_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL,
    period INTEGER NOT NULL DEFAULT 0,
    period_runs INTEGER NOT NULL DEFAULT 0,
    period_first_seq INTEGER NOT NULL DEFAULT 1,
    notice_seq INTEGER NOT NULL DEFAULT 0,
    notice_period INTEGER NOT NULL DEFAULT 0,
    notice_period_runs INTEGER NOT NULL DEFAULT 0
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
  ['budget_runs', 'notice_seq', 'INTEGER NOT NULL DEFAULT 0'],
  ['budget_runs', 'notice_period', 'INTEGER NOT NULL DEFAULT 0'],
  ['budget_runs', 'notice_period_runs', 'INTEGER NOT NULL DEFAULT 0'],
];

/** A notice's numbers, taken when its run starts: its noise's seed, and its k in the period. */
export interface NoticeNumbers {
  /** Among all the organisation's notices: seeds the notice's fresh noise. */
  seq: number;
  period: number;
  /** k: the notice's number in the period, from 1, which sets its noise (sd 22 k^0.75). */
  periodRun: number;
}

interface BudgetRow {
  user_hash: Buffer;
  spent: number;
  exhausted_seq: number | null;
  exhausted_idx: number | null;
}

/**
 * The tables behind ParticipationBudget (see there for what they mean). Every write happens inside
 * the settlement's transaction, which the budget opens; `period` says which period is current.
 */
export class BudgetStore implements BudgetLedger {
  readonly #sql: ReturnType<typeof statementCache>;

  constructor(
    private readonly db: Db,
    private readonly period: () => number,
  ) {
    db.exec(SCHEMA);
    // Buckets settled before noise counts were stored had their count's noise (basis null); rows
    // from before periods belong to period 0, which is the only one when the budget never renews.
    const added = new Set<string>();
    for (const [table, column, definition] of ADDED_COLUMNS) {
      const columns = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
      if (!columns.some((c) => c.name === column)) {
        db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
        added.add(column);
      }
    }
    // Notices used to take the settlement's numbers: go on from them, so that no seed and no k
    // of the period is used twice.
    if (added.has('notice_seq')) {
      db.exec(`UPDATE budget_runs SET notice_seq = last_seq, notice_period = period,
               notice_period_runs = period_runs`);
    }
    this.#sql = statementCache(db);
  }

  /**
   * Takes the organisation's next notice numbers, when a run or preview starts. Taken then, and
   * kept whether or not the run ends, so that how many were taken says only how many runs were
   * started: a number taken at settlement would tell whether a run cancelled at a moment of the
   * analyst's choosing had finished by then, a timing channel the release schedule closes.
   */
  takeNotice(orgId: string): NoticeNumbers {
    const period = this.period();
    const row = this.#sql(
      `INSERT INTO budget_runs (org_id, last_seq, notice_seq, notice_period, notice_period_runs)
       VALUES (@orgId, 0, 1, @period, 1)
       ON CONFLICT (org_id) DO UPDATE SET
         notice_seq = notice_seq + 1,
         notice_period_runs =
           CASE WHEN notice_period = @period THEN notice_period_runs + 1 ELSE 1 END,
         notice_period = @period
       RETURNING notice_seq, notice_period_runs`,
    ).get({ orgId, period }) as { notice_seq: number; notice_period_runs: number };
    return { seq: row.notice_seq, period, periodRun: row.notice_period_runs };
  }

  /** Notices (runs and previews started) the organisation has had in the current period. */
  runsThisPeriod(orgId: string): number {
    const row = this.#sql(
      'SELECT notice_period, notice_period_runs FROM budget_runs WHERE org_id = ?',
    ).get(orgId) as { notice_period: number; notice_period_runs: number } | undefined;
    return row && row.notice_period === this.period() ? row.notice_period_runs : 0;
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
