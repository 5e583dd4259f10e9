// The participation budget: how much fresh noisy information about one user one organisation gets.
import { createHash } from 'node:crypto';
import {
  BucketAggregator,
  countNoiseSd,
  type AnonymizerSettings,
  type BucketIdentity,
  type UserKey,
} from '../anonymizer/index.ts';
import { statementCache, type Db } from '../store/index.ts';
import type { MembershipLog } from './membership-log.ts';
import { ParticipationRun, type Collected, type CollectedBucket } from './participation-run.ts';
import type { UserLogOptions } from './user-log.ts';

export { ParticipationRun } from './participation-run.ts';

/*
 * Why. Sticky noise stops averaging one bucket, but every bucket with another user set or label
 * draws fresh noise, and an analyst can write one task (or many) that puts a victim into hundreds
 * of buckets whose other members are known: label minting, accomplice averaging, random-subset
 * reconstruction (test/attacks/). Each fresh draw of sd `s` tells the analyst about one user what
 * a Gaussian mechanism of sensitivity 1 does, a zCDP loss of 1 / (2 s^2); the losses add up.
 *
 * What. Per (organisation, user) the cloak keeps the loss spent so far. A bucket above the
 * absolute floor that this organisation has never been shown (a new pair of bucket identity and
 * user set) costs each member 1 / (2 sd^2), sd the anonymizer's count-noise sd at the bucket's
 * true count: small buckets (sd 3) cost 0.056, a bucket of 10,000 users (sd 33) 0.00045. A user
 * who cannot afford a fresh bucket is exhausted from then on: left out of every fresh bucket of
 * this organisation (still counted in buckets it has already been shown, so that reruns match).
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
 * transaction: two runs of one organisation cannot interleave their charges. A user's charges
 * depend only on their own state and buckets, taken in that order, so settlement goes user by
 * user (a few hundred per statement) and memory stays per bucket, not per user.
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

/** Users read or written per statement: well inside SQLite's 32,766 bound parameters. */
const USERS_PER_STATEMENT = 500;

/** Bytes of a user key or bucket hash stored: 128 bits, collisions are out of reach. */
const HASH_BYTES = 16;

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

interface UserState {
  spent: number;
  /** Where the user ran out: (run, index of the bucket it could not afford). */
  exhausted: [seq: number, idx: number] | undefined;
  dirty: boolean;
}

/** One settled bucket, for tests and the documentation: who was asked and what it cost. */
export interface SettledBucket {
  identity: BucketIdentity;
  requested: number;
  kept: number;
  cost: number;
  fresh: boolean;
}

/** What a run may publish: the aggregate, each user's kept properties, and what each bucket cost. */
export interface Settlement {
  aggregator: BucketAggregator;
  /** Per user, the properties the budget kept: for the anonymizer's suppression bucket. */
  memberships: MembershipLog;
  settled: SettledBucket[];
}

/** A bucket above the floor, in settlement order (by hash), with where it was first settled. */
interface Charged {
  bucket: number;
  hash: Buffer;
  cost: number;
  first: { seq: number; idx: number } | undefined;
}

/** The budget of every (organisation, user), in cloak.db. */
export class ParticipationBudget {
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
    this.#sql = statementCache(db);
  }

  /** Collects one run's contributions; `settle` then charges the budget and builds the aggregate. */
  startRun(orgId: string, settings: Readonly<AnonymizerSettings>): ParticipationRun<Settlement> {
    return new ParticipationRun(
      (collected) => this.#settle(orgId, settings, collected),
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

  #settle(
    orgId: string,
    settings: Readonly<AnonymizerSettings>,
    { buckets, users, memberships }: Collected,
  ): Settlement {
    const aggregator = new BucketAggregator();
    // Free buckets (at or below the floor: never published, never a noise draw) come first in
    // the order they were seen, then charged ones by hash; each user takes theirs in that order.
    const free: number[] = [];
    const charged: Charged[] = [];
    buckets.forEach((bucket, b) => {
      if (bucket.count <= settings.absoluteFloor) return void free.push(b);
      const sd = countNoiseSd(bucket.count, settings);
      const cost = sd > 0 ? 1 / (2 * sd * sd) : Infinity;
      charged.push({ bucket: b, hash: bucketHash(bucket), cost, first: undefined });
    });
    charged.sort((a, b) => Buffer.compare(a.hash, b.hash));
    const position = new Int32Array(buckets.length);
    const chargedAt = new Int32Array(buckets.length).fill(-1);
    free.forEach((b, i) => (position[b] = i));
    charged.forEach((c, idx) => {
      position[c.bucket] = free.length + idx;
      chargedAt[c.bucket] = idx;
    });
    const kept = new Int32Array(buckets.length);

    this.db
      .transaction(() => {
        const seq = this.#nextSeq(orgId);
        const known = this.#sql(
          'SELECT seq, idx FROM budget_buckets WHERE org_id = ? AND hash = ?',
        );
        const remember = this.#sql(
          'INSERT INTO budget_buckets (org_id, hash, seq, idx) VALUES (?, ?, ?, ?)',
        );
        charged.forEach((c, idx) => {
          c.first = known.get(orgId, c.hash) as Charged['first'];
          if (c.first === undefined) remember.run(orgId, c.hash, seq, idx);
        });
        const anyStored =
          this.#sql('SELECT 1 FROM budget_users WHERE org_id = ? LIMIT 1').get(orgId) !== undefined;
        const settleUser = (key: UserKey, ids: Int32Array, stored: Map<string, UserState>) => {
          const order = Array.from(ids).sort((a, b) => position[a]! - position[b]!);
          let state: UserState | undefined;
          const properties: Array<readonly [string, string]> = [];
          for (const b of order) {
            const idx = chargedAt[b]!;
            if (idx >= 0) {
              state ??= stored.get(hashText(key)) ?? {
                spent: 0,
                exhausted: undefined,
                dirty: false,
              };
              if (!this.#charge(state, charged[idx]!, seq, idx)) continue;
            }
            kept[b]!++;
            const { identity } = buckets[b]!;
            if (identity.kind === 'property') {
              aggregator.addProperty(identity.label, identity.value, key);
              properties.push([identity.label, identity.value]);
            } else {
              aggregator.addException(identity.message, key);
            }
          }
          if (properties.length > 0) memberships.add(key, properties);
          return state?.dirty ? state : undefined;
        };
        let chunk: Array<[UserKey, Int32Array]> = [];
        const settleChunk = () => {
          const stored = anyStored ? this.#loadUsers(orgId, chunk, chargedAt) : new Map();
          const dirty: Array<[UserKey, UserState]> = [];
          for (const [key, ids] of chunk) {
            const state = settleUser(key, ids, stored);
            if (state !== undefined) dirty.push([key, state]);
          }
          this.#saveUsers(orgId, dirty);
          chunk = [];
        };
        for (const user of users) {
          chunk.push(user);
          if (chunk.length === USERS_PER_STATEMENT) settleChunk();
        }
        settleChunk();
      })
      .immediate();
    const settled = charged.map((c): SettledBucket => ({
      identity: buckets[c.bucket]!.identity,
      requested: buckets[c.bucket]!.count,
      kept: kept[c.bucket]!,
      cost: c.cost,
      fresh: c.first === undefined,
    }));
    return { aggregator, settled, memberships };
  }

  /**
   * Whether a user in bucket `c` (at position (seq, idx)) is kept, charging them if it is fresh.
   * A known bucket keeps whoever had not run out before its first settlement, for free.
   */
  #charge(state: UserState, c: Charged, seq: number, idx: number): boolean {
    if (c.first !== undefined) return !exhaustedBefore(state, c.first.seq, c.first.idx);
    if (state.exhausted !== undefined) return false;
    state.dirty = true;
    if (state.spent + c.cost > this.options.rho) {
      state.exhausted = [seq, idx];
      return false;
    }
    state.spent += c.cost;
    return true;
  }

  #nextSeq(orgId: string): number {
    const row = this.#sql(
      `INSERT INTO budget_runs (org_id, last_seq) VALUES (?, 1)
       ON CONFLICT (org_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq`,
    ).get(orgId) as { last_seq: number };
    return row.last_seq;
  }

  /** The stored state of a chunk's users who are in a charged bucket, by hashText. */
  #loadUsers(
    orgId: string,
    chunk: ReadonlyArray<[UserKey, Int32Array]>,
    chargedAt: Int32Array,
  ): Map<string, UserState> {
    const wanted = chunk
      .filter(([, ids]) => ids.some((b) => chargedAt[b]! >= 0))
      .map(([key]) => userHash(key));
    const states = new Map<string, UserState>();
    if (wanted.length === 0) return states;
    const rows = this.#sql(
      `SELECT user_hash, spent, exhausted_seq, exhausted_idx FROM budget_users
       WHERE org_id = ? AND user_hash IN (${wanted.map(() => '?').join(', ')})`,
    ).all(orgId, ...wanted) as BudgetRow[];
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
  #saveUsers(orgId: string, dirty: ReadonlyArray<[UserKey, UserState]>): void {
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

/** Whether the user had run out at or before position (seq, idx), so was left out there. */
function exhaustedBefore(state: UserState, seq: number, idx: number): boolean {
  const e = state.exhausted;
  return e !== undefined && (e[0] < seq || (e[0] === seq && e[1] <= idx));
}

function userHash(user: UserKey): Buffer {
  return Buffer.from(user.buffer, user.byteOffset, HASH_BYTES);
}

function hashText(user: UserKey): string {
  return userHash(user).toString('latin1');
}

/** SHA-256 of the identity and the XOR of the members' keys (the anonymizer's fingerprint). */
function bucketHash(bucket: CollectedBucket): Buffer {
  return createHash('sha256')
    .update(JSON.stringify(bucket.identity))
    .update(new Uint8Array(bucket.words.buffer, bucket.words.byteOffset, bucket.words.byteLength))
    .digest()
    .subarray(0, HASH_BYTES);
}
