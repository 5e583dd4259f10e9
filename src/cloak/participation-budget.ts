// The participation budget: how much fresh noisy information about one user one organisation gets.
import type { AnonymizerSettings, UserKey } from '../anonymizer/index.ts';
import { statementCache, type Db } from '../store/index.ts';
import {
  userHash,
  type BudgetLedger,
  type FirstSettled,
  type UserState,
} from './budget-account.ts';
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
 * Everything is settled in one synchronous step after the sandbox has run every user, in one
 * transaction: two runs of one organisation cannot interleave their charges. Given the prices, a
 * user's charges depend only on their own state and buckets, taken in that order, so each pass
 * goes user by user (a few hundred per statement) and memory stays per bucket, not per user.
 */

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS budget_runs (
    org_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
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
    PRIMARY KEY (org_id, user_hash)
  ) STRICT, WITHOUT ROWID;
`;

export interface ParticipationBudgetOptions extends UserLogOptions {
  /** Total zCDP-like loss per (organisation, user); see docs/anonymization.md. */
  rho: number;
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
    db.exec(SCHEMA);
    // cloak.db files from before noise counts were stored: their buckets' noise was their count's.
    const columns = db.prepare('PRAGMA table_info(budget_buckets)').all() as Array<{
      name: string;
    }>;
    if (!columns.some((c) => c.name === 'basis')) {
      db.exec('ALTER TABLE budget_buckets ADD COLUMN basis INTEGER');
    }
    this.#sql = statementCache(db);
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
  ): ParticipationRun<Settlement> {
    return new ParticipationRun(
      (collected) =>
        this.db
          .transaction(() =>
            settleRun(this, { orgId, rho: this.options.rho, settings, collected, secret }),
          )
          .immediate(),
      this.options.memoryBytes === undefined ? {} : { memoryBytes: this.options.memoryBytes },
    );
  }

  /** The loss spent by one user (by user key), for tests and operators. */
  spent(orgId: string, user: UserKey): number {
    const row = this.#sql('SELECT spent FROM budget_users WHERE org_id = ? AND user_hash = ?').get(
      orgId,
      userHash(user),
    ) as { spent: number } | undefined;
    return row?.spent ?? 0;
  }

  nextSeq(orgId: string): number {
    const row = this.#sql(
      `INSERT INTO budget_runs (org_id, last_seq) VALUES (?, 1)
       ON CONFLICT (org_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq`,
    ).get(orgId) as { last_seq: number };
    return row.last_seq;
  }

  known(orgId: string, hash: Buffer): FirstSettled | undefined {
    return this.#sql(
      'SELECT seq, idx, basis FROM budget_buckets WHERE org_id = ? AND hash = ?',
    ).get(orgId, hash) as FirstSettled | undefined;
  }

  remember(orgId: string, hash: Buffer, { seq, idx, basis }: FirstSettled): void {
    this.#sql(
      'INSERT INTO budget_buckets (org_id, hash, seq, idx, basis) VALUES (?, ?, ?, ?, ?)',
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

  loadStates(orgId: string, users: readonly UserKey[]): Map<string, UserState> {
    const states = new Map<string, UserState>();
    if (users.length === 0) return states;
    const rows = this.#sql(
      `SELECT user_hash, spent, exhausted_seq, exhausted_idx FROM budget_users
       WHERE org_id = ? AND user_hash IN (${users.map(() => '?').join(', ')})`,
    ).all(orgId, ...users.map(userHash)) as BudgetRow[];
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
  saveStates(orgId: string, dirty: ReadonlyArray<[UserKey, UserState]>): void {
    const upsert = this.#sql(
      `INSERT INTO budget_users (org_id, user_hash, spent, exhausted_seq, exhausted_idx)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (org_id, user_hash) DO UPDATE SET spent = excluded.spent,
         exhausted_seq = excluded.exhausted_seq, exhausted_idx = excluded.exhausted_idx`,
    );
    for (const [key, s] of dirty) {
      upsert.run(orgId, userHash(key), s.spent, s.exhausted?.[0] ?? null, s.exhausted?.[1] ?? null);
    }
  }
}
