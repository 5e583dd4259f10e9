// Each user's reported properties for the suppression bucket, in a few flat typed arrays.
import type { UserKey, UserMembership } from '../anonymizer/index.ts';
import { UserKeys } from './user-keys.ts';

/**
 * The suppression bucket needs, at the end of a run, every user's list of properties. Kept as one
 * object and one array per user, that is about a kilobyte per user (1.3 GB at a million users);
 * here it is 32 bytes of key plus 4 bytes per (user, property), the property texts stored once.
 */
export class MembershipLog implements Iterable<UserMembership> {
  readonly #keys = new UserKeys();
  #offsets = new Int32Array(1025);
  #ids = new Int32Array(4096);
  #size = 0;
  readonly #idOf = new Map<string, Map<string, number>>();
  readonly #pairs: Array<readonly [string, string]> = [];

  get users(): number {
    return this.#keys.length;
  }

  /** Records one user (once per run) with the properties they report, each pair once. */
  add(key: UserKey, properties: Iterable<readonly [string, string]>): void {
    if (this.#keys.length + 2 > this.#offsets.length) {
      this.#offsets = grow(this.#offsets, this.#offsets.length * 2);
    }
    this.#keys.push(key);
    for (const [label, value] of properties) {
      if (this.#size === this.#ids.length) this.#ids = grow(this.#ids, this.#ids.length * 2);
      this.#ids[this.#size++] = this.#id(label, value);
    }
    this.#offsets[this.#keys.length] = this.#size;
  }

  *[Symbol.iterator](): Iterator<UserMembership> {
    for (let u = 0; u < this.#keys.length; u++) {
      const from = this.#offsets[u]!;
      const to = this.#offsets[u + 1]!;
      const ids = this.#ids;
      const pairs = this.#pairs;
      yield {
        key: this.#keys.at(u),
        properties: (function* () {
          for (let i = from; i < to; i++) yield pairs[ids[i]!]!;
        })(),
      };
    }
  }

  #id(label: string, value: string): number {
    let values = this.#idOf.get(label);
    if (values === undefined) this.#idOf.set(label, (values = new Map()));
    let id = values.get(value);
    if (id === undefined) {
      id = this.#pairs.length;
      this.#pairs.push([label, value]);
      values.set(value, id);
    }
    return id;
  }
}

function grow(array: Int32Array<ArrayBuffer>, length: number): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(length);
  bigger.set(array);
  return bigger;
}
