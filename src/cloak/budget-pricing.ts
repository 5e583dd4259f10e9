// The budget's prices: what a fresh bucket costs at the count it publishes, and how a bucket is known.
import { createHash } from 'node:crypto';
import {
  countNoiseSd,
  USER_KEY_BYTES,
  type AnonymizerSettings,
  type BucketIdentity,
} from '../anonymizer/index.ts';
import { HASH_BYTES, type Charged, type FirstSettled, type RunNumbers } from './budget-account.ts';

/** Passes that set prices (the first of them an optimistic charging pass); honest runs need one. */
export const MAX_PRICE_PASSES = 4;

/** A bucket settled in an earlier budget period is fresh again: its members' spending was reset. */
export function inPeriod(
  first: FirstSettled | undefined,
  run: RunNumbers,
): FirstSettled | undefined {
  return first && first.seq >= run.periodFirstSeq ? first : undefined;
}

/**
 * Lowers each fresh bucket's basis to what the last pass kept, where that changes its noise (and
 * so its price). Returns whether any price changed (or, with `apply` false, would change): if
 * none did, another pass would keep the same.
 */
export function reprice(
  charged: Charged[],
  keptOf: (c: Charged) => number,
  settings: Readonly<AnonymizerSettings>,
  apply = true,
): boolean {
  let changed = false;
  for (const c of charged) {
    if (c.first) continue;
    const kept = keptOf(c);
    if (countNoiseSd(kept, settings) < countNoiseSd(c.basis, settings)) {
      if (!apply) return true;
      c.basis = kept;
      c.cost = priceOf(kept, settings);
      changed = true;
    }
  }
  return changed;
}

/** 1 / (2 sd^2) for the noise a count gets; without noise nobody can pay. */
export function priceOf(count: number, settings: Readonly<AnonymizerSettings>): number {
  const sd = countNoiseSd(count, settings);
  return sd > 0 ? 1 / (2 * sd * sd) : Infinity;
}

export const WORDS = USER_KEY_BYTES / 4;

/**
 * SHA-256 of the task's question, the identity and the XOR of the members' keys (the
 * anonymizer's fingerprint): what the bucket's noise is drawn from, so a bucket is known (a free
 * rerun) exactly when it would draw the same noise.
 */
export function bucketHash(
  identity: BucketIdentity | { kind: 'suppression' },
  words: Uint32Array,
  question: Uint8Array,
): Buffer {
  return createHash('sha256')
    .update(question)
    .update(JSON.stringify(identity))
    .update(new Uint8Array(words.buffer, words.byteOffset, words.byteLength))
    .digest()
    .subarray(0, HASH_BYTES);
}
