// Test helpers for the anonymizer: fixed secrets, users and aggregates built from plain lists.
import { BucketAggregator } from './aggregator.ts';
import { userKey, type UserKey } from './user-key.ts';

/** A fixed secret per name, so noisy tests are reproducible. */
export function testSecret(name = 'test'): Uint8Array {
  const secret = new Uint8Array(32);
  new TextEncoder().encodeInto(name.padEnd(32, '.'), secret);
  return secret;
}

/** Keys of users `${prefix}0` .. `${prefix}${n - 1}`. */
export function users(secret: Uint8Array, n: number, prefix = 'u'): UserKey[] {
  return Array.from({ length: n }, (_, i) => userKey(secret, `${prefix}${i}`));
}

/** An aggregate with one property bucket holding the given users. */
export function oneBucket(
  label: string,
  value: string,
  keys: readonly UserKey[],
): BucketAggregator {
  const agg = new BucketAggregator();
  for (const key of keys) agg.addProperty(label, value, key);
  return agg;
}
