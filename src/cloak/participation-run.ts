// One run's contributions to the participation budget: per bucket a count and a fingerprint, per user a list of buckets.
import { USER_KEY_BYTES, type BucketIdentity, type UserKey } from '../anonymizer/index.ts';
import { KeptMemberships } from './kept-memberships.ts';
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
  /** Where settlement puts each user's kept properties (read through `users`); closed with the run. */
  memberships: KeptMemberships;
}

/**
 * The same `addProperty`/`addException` calls as a BucketAggregator (each user at most once per
 * bucket, all of a user's calls in a row with one key object). Memory is per bucket plus two user
 * logs that move to a temporary file past a fixed size, so it does not grow with the users.
 * `close` deletes those files, whether or not the run was settled.
 */
export class ParticipationRun<S> {
  /** Bucket indexes by label then value, and by message: no key text built per call. */
  readonly #properties = new Map<string, Map<string, number>>();
  readonly #exceptions = new Map<string, number>();
  readonly #buckets: CollectedBucket[] = [];
  readonly #users: UserLog;
  readonly #memberships: KeptMemberships;
  readonly #current: number[] = [];
  #lastKey: UserKey | undefined;
  /** The current user's key as 32-bit words: one view per user, eight XORs per bucket. */
  #lastWords: Uint32Array = new Uint32Array(WORDS);
  #settled = false;

  constructor(
    private readonly settleWith: (collected: Collected) => Promise<S>,
    options: UserLogOptions = {},
  ) {
    this.#users = new UserLog(options);
    this.#memberships = new KeptMemberships(this.#users, options);
  }

  addProperty(label: string, value: string, user: UserKey): void {
    this.#startUser(user);
    let values = this.#properties.get(label);
    if (values === undefined) this.#properties.set(label, (values = new Map()));
    let b = values.get(value);
    if (b === undefined) {
      b = this.#newBucket({ kind: 'property', label, value });
      values.set(value, b);
    }
    this.#count(b);
  }

  addException(message: string, user: UserKey): void {
    this.#startUser(user);
    let b = this.#exceptions.get(message);
    if (b === undefined) {
      b = this.#newBucket({ kind: 'exception', message });
      this.#exceptions.set(message, b);
    }
    this.#count(b);
  }

  /** Charges the budget (once per run) and returns the aggregate of what may be published. */
  async settle(): Promise<S> {
    if (this.#settled) throw new Error('a participation run is settled once');
    this.#settled = true;
    this.#endUser();
    // The users' log stays open until `close`: the kept memberships are read through it.
    return await this.settleWith({
      buckets: this.#buckets,
      users: this.#users,
      memberships: this.#memberships,
    });
  }

  /** Deletes the run's temporary files (the settlement's memberships too): after anonymizing. */
  close(): void {
    this.#users.close();
    this.#memberships.close();
  }

  #startUser(user: UserKey): void {
    if (user !== this.#lastKey) {
      this.#endUser();
      this.#lastKey = user;
      this.#lastWords = wordsOf(user);
    }
  }

  #newBucket(identity: BucketIdentity): number {
    this.#buckets.push({ identity, count: 0, words: new Uint32Array(WORDS) });
    return this.#buckets.length - 1;
  }

  #count(b: number): void {
    const bucket = this.#buckets[b]!;
    bucket.count++;
    const words = bucket.words;
    const key = this.#lastWords;
    for (let i = 0; i < WORDS; i++) words[i] = words[i]! ^ key[i]!;
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

/** A user key as 32-bit words: a view of it, or of an aligned copy when it starts mid-word. */
export function wordsOf(key: UserKey): Uint32Array {
  const aligned = key.byteOffset % 4 === 0 ? key : key.slice();
  return new Uint32Array(aligned.buffer, aligned.byteOffset, WORDS);
}

/** XORs a user key into a fingerprint held as 32-bit words. */
export function xorKey(words: Uint32Array, key: UserKey): void {
  const view = wordsOf(key);
  for (let i = 0; i < WORDS; i++) words[i] = words[i]! ^ view[i]!;
}
