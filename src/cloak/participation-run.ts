// One run's contributions to the participation budget: per bucket a count and a fingerprint, per user a list of buckets.
import { USER_KEY_BYTES, type BucketIdentity, type UserKey } from '../anonymizer/index.ts';
import { MembershipLog } from './membership-log.ts';
import { UserLog, type UserLogOptions } from './user-log.ts';

/** One bucket of a run before settlement: who asked is in the users' lists, not here. */
export interface CollectedBucket {
  identity: BucketIdentity;
  /** Users who reported it. */
  count: number;
  /** XOR of their keys (the anonymizer's user-set fingerprint), as 32-bit words. */
  words: Uint32Array;
}

/** What settlement reads: the buckets, and per user (in the order first seen) their bucket indexes. */
export interface Collected {
  buckets: readonly CollectedBucket[];
  users: UserLog;
  /** Where settlement puts each user's kept properties; closed with the run. */
  memberships: MembershipLog;
}

/**
 * The same `addProperty`/`addException` calls as a BucketAggregator (each user at most once per
 * bucket, all of a user's calls in a row with one key object). Memory is per bucket plus two user
 * logs that move to a temporary file past a fixed size, so it does not grow with the users.
 * `close` deletes those files, whether or not the run was settled.
 */
export class ParticipationRun<S> {
  readonly #index = new Map<string, number>();
  readonly #buckets: CollectedBucket[] = [];
  readonly #users: UserLog;
  readonly #memberships: MembershipLog;
  readonly #current: number[] = [];
  #lastKey: UserKey | undefined;
  #settled = false;

  constructor(
    private readonly settleWith: (collected: Collected) => Promise<S>,
    options: UserLogOptions = {},
  ) {
    this.#users = new UserLog(options);
    this.#memberships = new MembershipLog(options);
  }

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
  async settle(): Promise<S> {
    if (this.#settled) throw new Error('a participation run is settled once');
    this.#settled = true;
    this.#endUser();
    try {
      return await this.settleWith({
        buckets: this.#buckets,
        users: this.#users,
        memberships: this.#memberships,
      });
    } finally {
      this.#users.close();
    }
  }

  /** Deletes the run's temporary files (the settlement's memberships too): after anonymizing. */
  close(): void {
    this.#users.close();
    this.#memberships.close();
  }

  #add(id: string, user: UserKey, identity: () => BucketIdentity): void {
    if (user !== this.#lastKey) {
      this.#endUser();
      this.#lastKey = user;
    }
    let b = this.#index.get(id);
    if (b === undefined) {
      b = this.#buckets.length;
      this.#index.set(id, b);
      this.#buckets.push({ identity: identity(), count: 0, words: new Uint32Array(WORDS) });
    }
    const bucket = this.#buckets[b]!;
    bucket.count++;
    xorKey(bucket.words, user);
    this.#current.push(b);
  }

  #endUser(): void {
    if (this.#lastKey !== undefined && this.#current.length > 0) {
      this.#users.add(this.#lastKey, this.#current);
    }
    this.#current.length = 0;
  }
}

const WORDS = USER_KEY_BYTES / 4;

/** XORs a user key into a fingerprint held as 32-bit words. */
export function xorKey(words: Uint32Array, key: UserKey): void {
  const aligned = key.byteOffset % 4 === 0 ? key : key.slice();
  const view = new Uint32Array(aligned.buffer, aligned.byteOffset, WORDS);
  for (let i = 0; i < WORDS; i++) words[i] = words[i]! ^ view[i]!;
}
