// What each noise layer is seeded by: the bucket's identity, and the set of users in it.
import type { AggregatedBucket, BucketIdentity } from './aggregator.ts';
import type { Seed } from './noise.ts';

/** Two layers: bucket identity, user set. Absolute noise sds are per layer. */
export const NOISE_LAYERS = 2;

/**
 * The identity layer: what the analyst asked (label and value, or the exception message), with
 * a tag per kind, so that a property and an exception with the same text draw independently.
 */
export function identitySeed(identity: BucketIdentity): Seed {
  return identity.kind === 'property'
    ? ['bucket', 'property', identity.label, identity.value]
    : ['bucket', 'exception', identity.message];
}

/**
 * The user-set layer: the XOR of the users' keys and nothing the analyst chooses. Renaming a
 * label, or turning a property into an exception, draws a fresh identity layer but the same
 * user-set layer, so averaging reworded questions leaves this layer's noise in place; adding or
 * removing any one user changes it completely.
 */
export function userSetSeed(fingerprint: Uint8Array): Seed {
  return ['users', fingerprint];
}

/** The seeds of a bucket's layers, identity first. */
export function layerSeeds(bucket: AggregatedBucket): Seed[] {
  return [identitySeed(bucket.identity), userSetSeed(bucket.fingerprint)];
}
