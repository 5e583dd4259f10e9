// The suppression bucket: the users whose every reported property was suppressed, counted once.
import type { BucketAggregator, AggregatedBucket } from './aggregator.ts';
import type { UserKey } from './user-key.ts';

/**
 * The suppression bucket's label and value: published as `{"*": "*"}` in the seed's format.
 * A task may report ("*", "*") itself; its users then share this bucket's label but not its
 * count (see docs/anonymization.md).
 */
export const SUPPRESSION_LABEL = '*';
export const SUPPRESSION_VALUE = '*';

/** One user's reported properties after aggregation (and the participation budget, if any). */
export interface UserMembership {
  key: UserKey;
  properties: Iterable<readonly [label: string, value: string]>;
}

/**
 * Memberships that find those users themselves (the cloak's membership log, which keeps property
 * ids per user): the same users in the same order, without a property list built per user.
 */
export interface IndexedMemberships extends Iterable<UserMembership> {
  /** The keys of the users with a property, none of which passes `shown`; asked once per property. */
  usersWithNone(shown: (label: string, value: string) => boolean): Iterable<UserKey>;
}

/**
 * The users with at least one property, none of whose property buckets is published, as one
 * bucket (identity `*`/`*`, the XOR of their keys), or undefined when there is none. Whether
 * each bucket is published is `isPublished`, decided once per bucket.
 */
export function suppressionBucket(
  agg: BucketAggregator,
  memberships: Iterable<UserMembership>,
  isPublished: (bucket: AggregatedBucket) => boolean,
): AggregatedBucket | undefined {
  let count = 0;
  const fingerprint = new Uint8Array(32);
  for (const key of suppressedUsers(agg, memberships, isPublished)) {
    count++;
    for (let i = 0; i < fingerprint.length; i++) fingerprint[i]! ^= key[i]!;
  }
  if (count === 0) return undefined;
  return { identity: SUPPRESSION_IDENTITY, count, fingerprint };
}

/** The suppression bucket's identity, as a property bucket. */
export const SUPPRESSION_IDENTITY = Object.freeze({
  kind: 'property',
  label: SUPPRESSION_LABEL,
  value: SUPPRESSION_VALUE,
} as const);

/**
 * The keys of the users with at least one property, none of whose property buckets is published,
 * in the order of `memberships`. Whether each bucket is published is asked once per bucket.
 */
export function* suppressedUsers(
  agg: BucketAggregator,
  memberships: Iterable<UserMembership>,
  isPublished: (bucket: AggregatedBucket) => boolean,
): Generator<UserKey> {
  const decided = new Map<string, Map<string, boolean>>();
  const published = (label: string, value: string): boolean => {
    let values = decided.get(label);
    if (values === undefined) decided.set(label, (values = new Map()));
    let yes = values.get(value);
    if (yes === undefined) {
      const bucket = agg.property(label, value);
      yes = bucket !== undefined && isPublished(bucket);
      values.set(value, yes);
    }
    return yes;
  };
  if (typeof (memberships as Partial<IndexedMemberships>).usersWithNone === 'function') {
    yield* (memberships as IndexedMemberships).usersWithNone(published);
    return;
  }
  for (const { key, properties } of memberships) {
    let any = false;
    let shown = false;
    for (const [label, value] of properties) {
      any = true;
      if (published(label, value)) {
        shown = true;
        break;
      }
    }
    if (any && !shown) yield key;
  }
}
