// The participation budget: how much fresh noisy information about one user one organisation gets.
import { createHash } from 'node:crypto';
import {
  BucketAggregator,
  countNoiseSd,
  USER_KEY_BYTES,
  type AnonymizerSettings,
  type BucketIdentity,
  type UserKey,
  type UserMembership,
} from '../anonymizer/index.ts';
import { statementCache, type Db } from '../store/index.ts';
import { MembershipLog } from './membership-log.ts';
import { UserKeys } from './user-keys.ts';

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
 * true count: small buckets (sd 1.7) cost 0.17, a bucket of 10,000 users (sd 33) 0.0005. A user
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
 * transaction: two runs of one organisation cannot interleave their charges.
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

export interface ParticipationBudgetOptions {
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

interface Collected {
  identity: BucketIdentity;
  members: number[];
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
  memberships: Iterable<UserMembership>;
  settled: SettledBucket[];
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
  startRun(orgId: string, settings: Readonly<AnonymizerSettings>): ParticipationRun {
    return new ParticipationRun((buckets, users) => this.#settle(orgId, settings, buckets, users));
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
    collected: Iterable<Collected>,
    users: UserKeys,
  ): Settlement {
    const aggregator = new BucketAggregator();
    const settled: SettledBucket[] = [];
    // Buckets are settled one after another, but users are added to the aggregate one after
    // another (below): the aggregate then reuses each user's key words across their buckets.
    const keptBuckets: Array<{ identity: BucketIdentity; kept: readonly number[] }> = [];
    const add = (identity: BucketIdentity, kept: readonly number[]) => {
      if (kept.length > 0) keptBuckets.push({ identity, kept });
    };
    const charged: Array<Collected & { hash: Buffer; cost: number }> = [];
    for (const bucket of collected) {
      if (bucket.members.length <= settings.absoluteFloor) {
        // Never published and never a noise draw: free.
        add(bucket.identity, bucket.members);
        continue;
      }
      const sd = countNoiseSd(bucket.members.length, settings);
      charged.push({
        ...bucket,
        hash: bucketHash(bucket.identity, bucket.members, users),
        cost: sd > 0 ? 1 / (2 * sd * sd) : Infinity,
      });
    }
    charged.sort((a, b) => Buffer.compare(a.hash, b.hash));

    this.db
      .transaction(() => {
        const seq = this.#nextSeq(orgId);
        const states = this.#loadUsers(orgId, users, charged);
        const state = (m: number): UserState => states[m]!;
        const known = this.#sql(
          'SELECT seq, idx FROM budget_buckets WHERE org_id = ? AND hash = ?',
        );
        const remember = this.#sql(
          'INSERT INTO budget_buckets (org_id, hash, seq, idx) VALUES (?, ?, ?, ?)',
        );
        charged.forEach((bucket, idx) => {
          const first = known.get(orgId, bucket.hash) as { seq: number; idx: number } | undefined;
          let kept: number[];
          if (first !== undefined) {
            kept = bucket.members.filter((m) => !exhaustedBefore(state(m), first.seq, first.idx));
          } else {
            kept = [];
            for (const m of bucket.members) {
              const s = state(m);
              if (s.exhausted !== undefined) continue;
              if (s.spent + bucket.cost > this.options.rho) {
                s.exhausted = [seq, idx];
              } else {
                s.spent += bucket.cost;
                kept.push(m);
              }
              s.dirty = true;
            }
            remember.run(orgId, bucket.hash, seq, idx);
          }
          add(bucket.identity, kept);
          settled.push({
            identity: bucket.identity,
            requested: bucket.members.length,
            kept: kept.length,
            cost: bucket.cost,
            fresh: first === undefined,
          });
        });
        const dirty: Array<[number, UserState]> = [];
        states.forEach((s, m) => {
          if (s?.dirty) dirty.push([m, s]);
        });
        for (let i = 0; i < dirty.length; i += USERS_PER_STATEMENT) {
          const chunk = dirty.slice(i, i + USERS_PER_STATEMENT);
          this.#sql(
            `INSERT INTO budget_users (org_id, user_hash, spent, exhausted_seq, exhausted_idx)
             VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}
             ON CONFLICT (org_id, user_hash) DO UPDATE SET spent = excluded.spent,
               exhausted_seq = excluded.exhausted_seq, exhausted_idx = excluded.exhausted_idx`,
          ).run(
            chunk.flatMap(([m, s]) => [
              orgId,
              userHash(users.at(m)),
              s.spent,
              s.exhausted?.[0] ?? null,
              s.exhausted?.[1] ?? null,
            ]),
          );
        }
      })
      .immediate();
    // Each user's kept buckets as one flat list (offsets per user), not an array per user.
    const offsets = new Int32Array(users.length + 1);
    for (const { kept } of keptBuckets) for (const m of kept) offsets[m + 1]!++;
    for (let m = 0; m < users.length; m++) offsets[m + 1]! += offsets[m]!;
    const bucketsOf = new Int32Array(offsets[users.length]!);
    const filled = offsets.slice(0, users.length);
    keptBuckets.forEach(({ kept }, b) => {
      for (const m of kept) bucketsOf[filled[m]!++] = b;
    });
    const memberships = new MembershipLog();
    for (let m = 0; m < users.length; m++) {
      const key = users.at(m);
      const properties: Array<readonly [string, string]> = [];
      for (let i = offsets[m]!; i < offsets[m + 1]!; i++) {
        const { identity } = keptBuckets[bucketsOf[i]!]!;
        if (identity.kind === 'property') {
          aggregator.addProperty(identity.label, identity.value, key);
          properties.push([identity.label, identity.value]);
        } else {
          aggregator.addException(identity.message, key);
        }
      }
      if (properties.length > 0) memberships.add(key, properties);
    }
    return { aggregator, settled, memberships };
  }

  #nextSeq(orgId: string): number {
    const row = this.#sql(
      `INSERT INTO budget_runs (org_id, last_seq) VALUES (?, 1)
       ON CONFLICT (org_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq`,
    ).get(orgId) as { last_seq: number };
    return row.last_seq;
  }

  /**
   * The budget state of every member of `buckets` (indexes into `users`), read a few hundred users
   * per statement: one lookup per user would cost more than the whole settlement.
   */
  #loadUsers(
    orgId: string,
    users: UserKeys,
    buckets: ReadonlyArray<{ members: readonly number[] }>,
  ): Array<UserState | undefined> {
    const states: Array<UserState | undefined> = new Array(users.length);
    for (const { members } of buckets) {
      for (const m of members) states[m] ??= { spent: 0, exhausted: undefined, dirty: false };
    }
    const wanted: number[] = [];
    states.forEach((_, m) => wanted.push(m));
    const byHash = new Map(wanted.map((m) => [userHash(users.at(m)).toString('latin1'), m]));
    const read = (row: BudgetRow) => {
      const m = byHash.get(row.user_hash.toString('latin1'));
      if (m === undefined) return;
      states[m] = {
        spent: row.spent,
        exhausted:
          row.exhausted_seq === null ? undefined : [row.exhausted_seq, row.exhausted_idx ?? 0],
        dirty: false,
      };
    };
    const stored = (
      this.#sql('SELECT count(*) AS n FROM budget_users WHERE org_id = ?').get(orgId) as {
        n: number;
      }
    ).n;
    // A run over a good part of the organisation's users reads its range in one scan; a small
    // run looks its users up, a few hundred per statement.
    if (wanted.length * 4 >= stored) {
      const all = this.#sql(
        'SELECT user_hash, spent, exhausted_seq, exhausted_idx FROM budget_users WHERE org_id = ?',
      ).iterate(orgId) as Iterable<BudgetRow>;
      for (const row of all) read(row);
      return states;
    }
    for (let i = 0; i < wanted.length; i += USERS_PER_STATEMENT) {
      const chunk = wanted.slice(i, i + USERS_PER_STATEMENT);
      const rows = this.#sql(
        `SELECT user_hash, spent, exhausted_seq, exhausted_idx FROM budget_users
         WHERE org_id = ? AND user_hash IN (${chunk.map(() => '?').join(', ')})`,
      ).all(orgId, ...chunk.map((m) => userHash(users.at(m)))) as BudgetRow[];
      for (const row of rows) read(row);
    }
    return states;
  }
}

/**
 * One run's contributions: the same `addProperty`/`addException` calls as a BucketAggregator
 * (each user at most once per bucket), remembering who is in which bucket until `settle`.
 */
export class ParticipationRun {
  readonly #buckets = new Map<string, Collected>();
  readonly #users = new UserKeys();
  #lastKey: UserKey | undefined;
  #settled = false;

  constructor(
    private readonly settleWith: (buckets: Iterable<Collected>, users: UserKeys) => Settlement,
  ) {}

  addProperty(label: string, value: string, user: UserKey): void {
    this.#add(JSON.stringify(['p', label, value]), user, () => ({
      kind: 'property',
      label,
      value,
    }));
  }

  addException(message: string, user: UserKey): void {
    this.#add(JSON.stringify(['e', message]), user, () => ({ kind: 'exception', message }));
  }

  /** Charges the budget (once per run) and returns the aggregate of what may be published. */
  settle(): Settlement {
    if (this.#settled) throw new Error('a participation run is settled once');
    this.#settled = true;
    return this.settleWith(this.#buckets.values(), this.#users);
  }

  #add(key: string, user: UserKey, identity: () => BucketIdentity): void {
    // The task runner passes one key object per user for all of that user's buckets.
    if (user !== this.#lastKey) {
      this.#users.push(user);
      this.#lastKey = user;
    }
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      this.#buckets.set(key, (bucket = { identity: identity(), members: [] }));
    }
    bucket.members.push(this.#users.length - 1);
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

/** SHA-256 of the identity and the XOR of the members' keys (the anonymizer's fingerprint). */
function bucketHash(identity: BucketIdentity, members: readonly number[], users: UserKeys) {
  const fingerprint = Buffer.alloc(USER_KEY_BYTES);
  for (const m of members) users.xorInto(fingerprint, m);
  return createHash('sha256')
    .update(JSON.stringify(identity))
    .update(fingerprint)
    .digest()
    .subarray(0, HASH_BYTES);
}
