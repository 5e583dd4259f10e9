// Each user's reported properties for the suppression bucket: a user log of property ids, the texts stored once.
import type { IndexedMemberships, UserKey, UserMembership } from '../anonymizer/index.ts';
import { UserLog, type UserLogOptions } from './user-log.ts';

/**
 * The suppression bucket needs, at the end of a run, every user's list of properties. Kept as one
 * object and one array per user, that is about a kilobyte per user (1.3 GB at a million users);
 * here it is 32 bytes of key plus 4 bytes per (user, property), the property texts stored once,
 * and past a fixed size it goes to a temporary file (user-log.ts): call `close` when done.
 */
export class MembershipLog implements IndexedMemberships {
  readonly #log: UserLog;
  readonly #idOf = new Map<string, Map<string, number>>();
  #pairs: ReadonlyArray<readonly [string, string]> = [];
  /** Whether ids are the caller's (addIndexes) rather than this log's own (add). */
  #given = false;
  readonly #scratch: number[] = [];

  constructor(options: UserLogOptions = {}) {
    this.#log = new UserLog(options);
  }

  get users(): number {
    return this.#log.length;
  }

  /** Whether the log went to its temporary file (for tests). */
  get spilled(): boolean {
    return this.#log.spilled;
  }

  /** Records one user (once per run) with the properties they report, each pair once. */
  add(key: UserKey, properties: Iterable<readonly [string, string]>): void {
    if (this.#given) throw new Error('this log takes property indexes (addIndexes)');
    const ids = this.#scratch;
    ids.length = 0;
    for (const [label, value] of properties) ids.push(this.#id(label, value));
    this.#log.add(key, ids);
  }

  /**
   * Records one user by the indexes of their properties in `pairs`, the same table in every call
   * (the settlement's buckets): no text lookup per (user, property). A log takes either these or
   * `add`'s properties.
   */
  addIndexes(
    key: UserKey,
    ids: ArrayLike<number>,
    pairs: ReadonlyArray<readonly [string, string]>,
  ): void {
    if (pairs !== this.#pairs) {
      if (this.#pairs.length > 0) throw new Error('a log takes one table of properties');
      this.#pairs = pairs;
      this.#given = true;
    }
    this.#log.add(key, ids);
  }

  *[Symbol.iterator](): Iterator<UserMembership> {
    const pairs = this.#pairs;
    for (const [key, ids] of this.#log) {
      yield {
        key,
        properties: (function* () {
          for (const id of ids) yield pairs[id]!;
        })(),
      };
    }
  }

  /**
   * The keys of the users none of whose properties passes `shown`, asked once per property: the
   * suppression bucket's members, without building a property list per user.
   */
  *usersWithNone(shown: (label: string, value: string) => boolean): Generator<UserKey> {
    const decided = new Int8Array(this.#pairs.length);
    for (const [key, ids] of this.#log) {
      if (ids.length === 0) continue;
      let any = false;
      for (const id of ids) {
        if (decided[id] === 0) {
          const [label, value] = this.#pairs[id]!;
          decided[id] = shown(label, value) ? 1 : -1;
        }
        if (decided[id] === 1) {
          any = true;
          break;
        }
      }
      if (!any) yield key;
    }
  }

  /** Forgets every user (a settlement that is rolled back); the log can be filled again. */
  clear(): void {
    this.#log.close();
  }

  /** Deletes the temporary file, if any. */
  close(): void {
    this.#log.close();
  }

  #id(label: string, value: string): number {
    let values = this.#idOf.get(label);
    if (values === undefined) this.#idOf.set(label, (values = new Map()));
    let id = values.get(value);
    if (id === undefined) {
      id = this.#pairs.length;
      (this.#pairs as Array<readonly [string, string]>).push([label, value]);
      values.set(value, id);
    }
    return id;
  }
}
