// A shard's answer: each of its users' outcomes by user key, in a compact form the queue can carry.
import { USER_KEY_BYTES, type UserKey } from '../../anonymizer/index.ts';
import type { UserOutcome } from '../../sandbox/index.ts';

/*
 * Why per user and not a merged BucketAggregator. Both consumers of a run's counts need each
 * user's own list of buckets: the participation budget charges user by user (a user who runs out
 * is left out of later buckets, which changes the counts), and the suppression bucket "*" counts
 * users none of whose buckets is published, which only each user's list can tell. A partial
 * aggregate (BucketAggregator.toJSON) cannot be settled; these lists can, and merging them is
 * concatenation, since shards hold disjoint users. The coordinator replays them into the very
 * aggregator, budget run and membership log an in-process run uses, so the published result is
 * the same bytes (docs/server-mode.md, "Two phases").
 *
 * Form. Bucket identities are listed once per shard; each user is their key (base64) and the
 * indexes of their buckets, in the order the task reported them. An exception is one index to an
 * exception identity. A user whose task reported nothing is not listed (as in-process runs count
 * nobody for them). No user id leaves the worker.
 */

/** ['p', label, value] for a property, ['e', message] for an exception. */
export type PartialIdentity = ['p', string, string] | ['e', string];

export interface ShardPartial {
  v: 1;
  identities: PartialIdentity[];
  /** [user key in base64, ...bucket indexes]. */
  users: Array<[string, ...number[]]>;
  /** Users the shard ran, those that reported nothing included (for progress). */
  ran: number;
}

/** Collects one shard's outcomes as the sandbox returns them. */
export class PartialBuilder {
  readonly #index = new Map<string, number>();
  readonly #partial: ShardPartial = { v: 1, identities: [], users: [], ran: 0 };

  add(key: UserKey, outcome: UserOutcome): void {
    this.#partial.ran++;
    const ids = outcome.ok
      ? outcome.properties.map(([label, value]) => this.#id(['p', label, value]))
      : [this.#id(['e', outcome.error])];
    if (ids.length > 0) this.#partial.users.push([Buffer.from(key).toString('base64'), ...ids]);
  }

  get partial(): ShardPartial {
    return this.#partial;
  }

  #id(identity: PartialIdentity): number {
    const text = JSON.stringify(identity);
    let id = this.#index.get(text);
    if (id === undefined) {
      id = this.#partial.identities.length;
      this.#index.set(text, id);
      this.#partial.identities.push(identity);
    }
    return id;
  }
}

/**
 * Hands every user of a partial to `count` as the outcome the sandbox gave, with one key object
 * per user (the budget's collection tells users apart by that object). Throws on a partial that
 * is not of this form: it came through the database, and a wrong one must fail the run, not
 * count wrongly.
 */
export function replayPartial(
  partial: unknown,
  count: (key: UserKey, outcome: UserOutcome) => void,
): number {
  const p = partial as Partial<ShardPartial> | null;
  if (p === null || typeof p !== 'object' || p.v !== 1 || !Array.isArray(p.identities)) {
    throw new Error('a shard returned a partial aggregate that is not of version 1');
  }
  if (!Array.isArray(p.users) || typeof p.ran !== 'number') {
    throw new Error('a shard returned a partial aggregate without its users');
  }
  const identities = p.identities;
  for (const entry of p.users) {
    const [encoded, ...ids] = entry;
    const key = new Uint8Array(Buffer.from(encoded, 'base64'));
    if (key.length !== USER_KEY_BYTES || ids.length === 0) {
      throw new Error('a shard returned a user entry that is not a key and its buckets');
    }
    const found = ids.map((id) => identities[id]);
    if (found.some((identity) => identity === undefined)) {
      throw new Error('a shard returned a bucket index outside its list of buckets');
    }
    const first = found[0]!;
    if (first[0] === 'e') count(key, { ok: false, error: first[1] });
    else {
      const properties = found.map((identity): [string, string] => {
        if (identity![0] !== 'p') throw new Error('a shard mixed an exception with properties');
        return [identity![1], identity![2]];
      });
      count(key, { ok: true, properties });
    }
  }
  return p.ran;
}
