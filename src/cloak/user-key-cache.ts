// Users' keys remembered between an organisation's runs: most questions go over the same users.
import { USER_KEY_BYTES, userKey, type UserKey } from '../anonymizer/index.ts';

/**
 * Users remembered before the cache starts over: about 130 bytes each (the id as a string, a map
 * entry and 32 key bytes in a shared slab), so at most about 35 MB.
 */
export const USER_KEY_CACHE_USERS = 262_144;

/** Keys per slab: one allocation holds the keys of many users. */
const SLAB_KEYS = 4096;

/**
 * A user key costs an HMAC-SHA256 (about 2 microseconds, Node's createHmac being faster than any
 * JavaScript SHA-256), paid for every user of every run: a sql task over 100,000 users spent a
 * sixth of its time there. Keys depend only on the installation secret and the user id, so they
 * are kept for the next run. Bounded: past USER_KEY_CACHE_USERS the map starts over (an
 * organisation with more users than that pays the HMAC as before). A key handed out is never
 * overwritten, since a run in progress may hold it: starting over allocates new slabs and leaves
 * the old ones to the runs that still refer to them.
 */
export class UserKeyCache {
  readonly #keys = new Map<string, Entry>();
  /** The entry handed out last: its `next` is the user asked for after it the last time. */
  #last: Entry | undefined;
  #slab = new Uint8Array(0);
  #used = 0;

  constructor(
    private readonly secret: Uint8Array,
    private readonly maxUsers = USER_KEY_CACHE_USERS,
  ) {}

  /**
   * Runs ask for their users in user-id order, the same order run after run; a lookup in a map
   * of 100,000 users costs about half a microsecond (the fresh id string is hashed, the table
   * probed), so the cache first tries the user that came after the last one the last time: a
   * comparison of two short strings.
   */
  of(userId: string): UserKey {
    const next = this.#last?.next;
    if (next !== undefined && next.id === userId) {
      this.#last = next;
      return next.key;
    }
    let entry = this.#keys.get(userId);
    if (entry === undefined) {
      if (this.#keys.size >= this.maxUsers) {
        this.#keys.clear();
        // The chain would keep the forgotten entries alive; the new ones start one of their own.
        this.#last = undefined;
      }
      entry = { id: userId, key: this.#newKey(userId), next: undefined };
      this.#keys.set(userId, entry);
    }
    if (this.#last !== undefined) this.#last.next = entry;
    this.#last = entry;
    return entry.key;
  }

  get size(): number {
    return this.#keys.size;
  }

  #newKey(userId: string): UserKey {
    if (this.#used === this.#slab.length) {
      this.#slab = new Uint8Array(SLAB_KEYS * USER_KEY_BYTES);
      this.#used = 0;
    }
    // A 32-byte, 4-byte aligned view, as userKey's own arrays are (the aggregator reads words).
    const key = this.#slab.subarray(this.#used, this.#used + USER_KEY_BYTES);
    key.set(userKey(this.secret, userId));
    this.#used += USER_KEY_BYTES;
    return key;
  }
}

interface Entry {
  readonly id: string;
  readonly key: UserKey;
  next: Entry | undefined;
}
