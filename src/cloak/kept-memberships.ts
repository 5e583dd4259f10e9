// Each user's properties that a settlement kept, read from the run's own log: a list of their own only for users the budget left out of something.
import type { IndexedMemberships, UserKey, UserMembership } from '../anonymizer/index.ts';
import { MembershipLog } from './membership-log.ts';
import type { UserLog, UserLogOptions } from './user-log.ts';

/** A bucket's property by index, or undefined for an exception bucket (never a property). */
export type BucketPairs = ReadonlyArray<readonly [label: string, value: string] | undefined>;

const NOT_A_PROPERTY = Object.freeze(['', ''] as const);

/**
 * The suppression bucket needs, after the budget has settled, each user's kept properties. A user
 * left out of nothing kept every bucket they reported, which the run's log already lists, so a
 * second log of every user (about a sixth of a sql task's settlement over 100,000 users) holds only
 * the users left out of something. `reset` starts over (a settlement whose prices moved charges
 * again); the run's log must stay open while this is read.
 */
export class KeptMemberships implements IndexedMemberships {
  #pairs: BucketPairs = [];
  /** The same with exceptions as a placeholder, for the partial log's table. */
  #table: ReadonlyArray<readonly [string, string]> = [];
  /** Per user, in the run log's order: 1 when the user has a list of their own. */
  #marks = new Uint8Array(0);
  readonly #partial: MembershipLog;

  constructor(
    private readonly users: UserLog,
    options: UserLogOptions = {},
  ) {
    this.#partial = new MembershipLog(options);
  }

  /** Every user kept every bucket they reported, `pairs` naming the buckets by index. */
  reset(pairs: BucketPairs): void {
    if (pairs !== this.#pairs) {
      // One table for the partial log's life: it takes one table of properties.
      this.#pairs = pairs;
      this.#table = pairs.map((pair) => pair ?? NOT_A_PROPERTY);
    }
    this.#marks = new Uint8Array(this.users.length);
    this.#partial.clear();
  }

  /**
   * The user at `index` of the run log's order kept only these buckets (property buckets only, by
   * index), having been left out of some other.
   */
  keepOnly(index: number, key: UserKey, ids: ArrayLike<number>): void {
    this.#marks[index] = 1;
    if (ids.length > 0) this.#partial.addIndexes(key, ids, this.#table);
  }

  *usersWithNone(shown: (label: string, value: string) => boolean): Generator<UserKey> {
    const pairs = this.#pairs;
    // 1 shown, -1 not (or not a property), 0 not asked yet: asked once per property.
    const decided = new Int8Array(pairs.length);
    pairs.forEach((pair, b) => {
      if (pair === undefined) decided[b] = -1;
    });
    let index = 0;
    for (const [key, ids] of this.users) {
      if (this.#marks[index++] === 1) continue;
      let property = false;
      let any = false;
      for (const id of ids) {
        if (decided[id] === 0) {
          const [label, value] = pairs[id]!;
          decided[id] = shown(label, value) ? 1 : -1;
        }
        if (decided[id] === 1) {
          any = true;
          break;
        }
        property ||= pairs[id] !== undefined;
      }
      if (property && !any) yield key;
    }
    yield* this.#partial.usersWithNone(shown);
  }

  *[Symbol.iterator](): Iterator<UserMembership> {
    const pairs = this.#pairs;
    let index = 0;
    for (const [key, ids] of this.users) {
      if (this.#marks[index++] === 1) continue;
      const properties = [...ids].flatMap((id) => (pairs[id] ? [pairs[id]] : []));
      if (properties.length > 0) yield { key, properties };
    }
    yield* this.#partial;
  }

  /** Deletes the partial log's temporary file, if any; the run's log is the run's to close. */
  close(): void {
    this.#partial.close();
  }
}
