// What a bucket's noise is seeded by: the task's question, the bucket's identity and its users.
import type { AggregatedBucket, BucketIdentity } from './aggregator.ts';
import type { Seed } from './noise.ts';

/** The question of callers that have none (pure tests and benches): an empty one. */
export const NO_QUESTION: Uint8Array = new Uint8Array(0);

/**
 * One seed per bucket: the task's question (a hash of its code and data selection, from the
 * cloak), what the bucket is (label and value, or the exception message, tagged by kind) and who
 * is in it (the XOR of the users' keys, mergeable across workers). The same task over the same
 * users draws the same noise (sticky: a rerun averages nothing away and is free); anything else,
 * another label, another task, one user more or less, draws independently.
 *
 * One draw, not layers. The noise used to be the sum of an identity layer and a user-set layer
 * that every bucket over the same users shared, so that relabelling could not average it. But a
 * shared layer is a correlation the budget does not price: an analyst averaged five spellings of
 * a task over a group, and five of a task over the same group plus the victim when their bit was
 * 1; the shared layer cancelled exactly when the bit was 0 (test/attacks/rerun-difference.test.ts,
 * kappa 1.000 at 9% coverage). With independent draws every bucket is a plain Gaussian look,
 * which is what the participation budget charges for, and relabelling is charged like any fresh
 * bucket.
 */
export function bucketSeed(bucket: AggregatedBucket, question: Uint8Array = NO_QUESTION): Seed {
  return ['bucket', question, ...identityParts(bucket.identity), 'users', bucket.fingerprint];
}

function identityParts(identity: BucketIdentity): string[] {
  return identity.kind === 'property'
    ? ['property', identity.label, identity.value]
    : ['exception', identity.message];
}
