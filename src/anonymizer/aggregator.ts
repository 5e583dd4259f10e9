// The partial aggregate: distinct users per (label, value) and per exception message, mergeable.
import { USER_KEY_BYTES, type UserKey } from './user-key.ts';

/** What a bucket is about: a reported (label, value) pair, or the message of a failed user run. */
export type BucketIdentity =
  { kind: 'property'; label: string; value: string } | { kind: 'exception'; message: string };

/** One bucket as the anonymizer sees it: true count and the user-set fingerprint (a copy). */
export interface AggregatedBucket {
  identity: BucketIdentity;
  /** Distinct users in the bucket. */
  count: number;
  /** XOR of the 32-byte keys of the bucket's users: equal sets of users give equal fingerprints. */
  fingerprint: Uint8Array;
  /**
   * The count whose noise the bucket gets, when more than `count`. The participation budget
   * prices a bucket's members by the noise drawn for it; when some were left out after the price
   * was fixed, the noise stays that of the priced count, so that nobody pays for more noise than
   * the published count carries (docs/anonymization.md, "Budget padding").
   */
  noiseCount?: number;
}

/** The wire form of a partial aggregate, for workers; fingerprints are base64 of 32 bytes. */
export interface SerializedAggregate {
  format: typeof FORMAT;
  properties: Array<[label: string, value: string, count: number, fingerprint: string]>;
  exceptions: Array<[message: string, count: number, fingerprint: string]>;
}

const FORMAT = 'opencloak/partial-aggregate/v1';
const WORDS = USER_KEY_BYTES / 4;

/** Per bucket: the count and the XOR of user keys as eight 32-bit words (same bytes, same order). */
interface BucketState {
  count: number;
  words: Uint32Array;
  noiseCount?: number;
}

/**
 * Counts distinct users per bucket. Contract: the caller adds each user at most once per bucket
 * (the sandbox dedups a user's properties), and partial aggregates that are merged cover disjoint
 * sets of users (workers partition users). Under that contract `merge` is associative and
 * commutative, and merging partials gives exactly the aggregate one node would have built.
 *
 * Adding costs two map lookups and eight XORs; nothing is allocated except the first time a
 * bucket is seen, so aggregation keeps up with well over a million tuples per second.
 */
export class BucketAggregator {
  readonly #properties = new Map<string, Map<string, BucketState>>();
  readonly #exceptions = new Map<string, BucketState>();
  #lastKey: UserKey | undefined;
  #lastWords: Uint32Array = new Uint32Array(WORDS);

  /** Counts `user` in the bucket (label, value); call it at most once per user and bucket. */
  addProperty(label: string, value: string, user: UserKey): void {
    let values = this.#properties.get(label);
    if (values === undefined) {
      values = new Map();
      this.#properties.set(label, values);
    }
    addUser(values, value, this.#wordsOf(user));
  }

  /** Counts `user` in the exception bucket of `message`; at most once per user and message. */
  addException(message: string, user: UserKey): void {
    addUser(this.#exceptions, message, this.#wordsOf(user));
  }

  /**
   * Counts `count` users, whose keys XOR to `words` (eight 32-bit words, as the keys' bytes), in
   * the bucket `identity`: a bucket counted elsewhere, over users not yet counted here.
   */
  addCounted(identity: BucketIdentity, count: number, words: Uint32Array): void {
    if (words.length !== WORDS) throw new RangeError(`a fingerprint is ${WORDS} words`);
    if (identity.kind === 'exception') {
      addState(this.#exceptions, identity.message, count, words);
      return;
    }
    let values = this.#properties.get(identity.label);
    if (values === undefined) {
      values = new Map();
      this.#properties.set(identity.label, values);
    }
    addState(values, identity.value, count, words);
  }

  /** Adds another partial aggregate (over other users) into this one; `other` is left unchanged. */
  merge(other: BucketAggregator): void {
    if (other === this)
      throw new Error('cannot merge an aggregate into itself: it would count users twice');
    for (const [label, values] of other.#properties) {
      let mine = this.#properties.get(label);
      if (mine === undefined) {
        mine = new Map();
        this.#properties.set(label, mine);
      }
      for (const [value, state] of values) addState(mine, value, state.count, state.words);
    }
    for (const [message, state] of other.#exceptions) {
      addState(this.#exceptions, message, state.count, state.words);
    }
  }

  /** Number of buckets, properties and exceptions together. */
  get size(): number {
    let n = this.#exceptions.size;
    for (const values of this.#properties.values()) n += values.size;
    return n;
  }

  /** Every bucket, properties first, in insertion order; fingerprints are copies. */
  *buckets(): IterableIterator<AggregatedBucket> {
    for (const [label, values] of this.#properties) {
      for (const [value, state] of values) {
        yield { identity: { kind: 'property', label, value }, ...exportState(state) };
      }
    }
    for (const [message, state] of this.#exceptions) {
      yield { identity: { kind: 'exception', message }, ...exportState(state) };
    }
  }

  /** The bucket (label, value), or undefined when no user reported it; the fingerprint is a copy. */
  property(label: string, value: string): AggregatedBucket | undefined {
    const state = this.#properties.get(label)?.get(value);
    if (state === undefined) return undefined;
    return { identity: { kind: 'property', label, value }, ...exportState(state) };
  }

  /**
   * Draws the noise of a bucket as if it had `count` users (at least its own count): for the
   * participation budget, after the aggregate is complete. Partial aggregates do not carry it.
   */
  setNoiseCount(identity: BucketIdentity, count: number): void {
    const state =
      identity.kind === 'property'
        ? this.#properties.get(identity.label)?.get(identity.value)
        : this.#exceptions.get(identity.message);
    if (state === undefined) throw new Error('setNoiseCount: no such bucket in this aggregate');
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`setNoiseCount: the count must be a whole number >= 0, got ${count}`);
    }
    if (count > state.count) state.noiseCount = count;
    else delete state.noiseCount;
  }

  /** The serializable form (also what JSON.stringify uses). */
  toJSON(): SerializedAggregate {
    const properties: SerializedAggregate['properties'] = [];
    for (const [label, values] of this.#properties) {
      for (const [value, state] of values) {
        properties.push([label, value, state.count, toBase64(state.words)]);
      }
    }
    const exceptions: SerializedAggregate['exceptions'] = [];
    for (const [message, state] of this.#exceptions) {
      exceptions.push([message, state.count, toBase64(state.words)]);
    }
    return { format: FORMAT, properties, exceptions };
  }

  /** Rebuilds a partial aggregate from `toJSON` output (or its parsed JSON); rejects anything else. */
  static fromJSON(data: unknown): BucketAggregator {
    const fail = (what: string): never => {
      throw new TypeError(`not a serialized partial aggregate (${FORMAT}): ${what}`);
    };
    if (typeof data !== 'object' || data === null) return fail('expected an object');
    const { format, properties, exceptions } = data as Record<string, unknown>;
    if (format !== FORMAT) return fail(`"format" is ${JSON.stringify(format)}`);
    if (!Array.isArray(properties)) return fail('"properties" must be a list');
    if (!Array.isArray(exceptions)) return fail('"exceptions" must be a list');
    const aggregate = new BucketAggregator();
    properties.forEach((entry: unknown, i) => {
      const where = `properties[${i}]`;
      if (!Array.isArray(entry) || entry.length !== 4) return fail(`${where} must have 4 items`);
      const [label, value, count, fingerprint] = entry as unknown[];
      if (typeof label !== 'string' || typeof value !== 'string') {
        return fail(`${where}: label and value must be strings`);
      }
      let values = aggregate.#properties.get(label);
      if (values === undefined) {
        values = new Map();
        aggregate.#properties.set(label, values);
      }
      if (values.has(value)) return fail(`${where} repeats a bucket`);
      values.set(value, readState(count, fingerprint, where, fail));
    });
    exceptions.forEach((entry: unknown, i) => {
      const where = `exceptions[${i}]`;
      if (!Array.isArray(entry) || entry.length !== 3) return fail(`${where} must have 3 items`);
      const [message, count, fingerprint] = entry as unknown[];
      if (typeof message !== 'string') return fail(`${where}: the message must be a string`);
      if (aggregate.#exceptions.has(message)) return fail(`${where} repeats a bucket`);
      aggregate.#exceptions.set(message, readState(count, fingerprint, where, fail));
    });
    return aggregate;
  }

  /** The key as 32-bit words: a view on its bytes, cached for the run of calls with one user. */
  #wordsOf(user: UserKey): Uint32Array {
    if (user === this.#lastKey) return this.#lastWords;
    if (!(user instanceof Uint8Array) || user.length !== USER_KEY_BYTES) {
      throw new TypeError(`a user key must be ${USER_KEY_BYTES} bytes; derive it with userKey()`);
    }
    if (user.byteOffset % 4 !== 0) return new Uint32Array(user.slice().buffer, 0, WORDS);
    this.#lastKey = user;
    this.#lastWords = new Uint32Array(user.buffer, user.byteOffset, WORDS);
    return this.#lastWords;
  }
}

function addUser(map: Map<string, BucketState>, key: string, words: Uint32Array): void {
  const state = map.get(key);
  if (state === undefined) {
    map.set(key, { count: 1, words: words.slice() });
    return;
  }
  state.count += 1;
  xorInto(state.words, words);
}

function addState(
  map: Map<string, BucketState>,
  key: string,
  count: number,
  words: Uint32Array,
): void {
  const state = map.get(key);
  if (state === undefined) {
    map.set(key, { count, words: words.slice() });
    return;
  }
  state.count += count;
  xorInto(state.words, words);
}

function xorInto(target: Uint32Array, words: Uint32Array): void {
  for (let i = 0; i < WORDS; i++) target[i] = target[i]! ^ words[i]!;
}

function exportState(state: BucketState): Omit<AggregatedBucket, 'identity'> {
  const fingerprint = new Uint8Array(state.words.slice().buffer);
  return state.noiseCount === undefined
    ? { count: state.count, fingerprint }
    : { count: state.count, fingerprint, noiseCount: state.noiseCount };
}

function toBase64(words: Uint32Array): string {
  return Buffer.from(words.buffer, words.byteOffset, USER_KEY_BYTES).toString('base64');
}

function readState(
  count: unknown,
  fingerprint: unknown,
  where: string,
  fail: (what: string) => never,
): BucketState {
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) {
    return fail(`${where}: the count must be a positive integer`);
  }
  if (typeof fingerprint !== 'string') return fail(`${where}: the fingerprint must be base64`);
  const bytes = Buffer.from(fingerprint, 'base64');
  if (bytes.length !== USER_KEY_BYTES || bytes.toString('base64') !== fingerprint) {
    return fail(`${where}: the fingerprint must be ${USER_KEY_BYTES} bytes of base64`);
  }
  const words = new Uint32Array(WORDS);
  new Uint8Array(words.buffer).set(bytes);
  return { count, words };
}
