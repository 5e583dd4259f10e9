// Turns a bucket aggregate into the published result: suppress, add sticky noise, round, sort.
import type { AnonymizedResult, PublishedBucket, PublishedException } from '../shared/index.ts';
import type { AggregatedBucket, BucketAggregator } from './aggregator.ts';
import { countNoise, noisyValue } from './count-noise.ts';
import { isLowCount } from './low-count.ts';
import { roundCount } from './rounding.ts';
import { bucketSeed, NO_QUESTION } from './seeds.ts';
import { suppressionBucket, type UserMembership } from './suppression-bucket.ts';
import {
  DEFAULT_ANONYMIZER_SETTINGS,
  validateAnonymizerSettings,
  type AnonymizerSettings,
} from './settings.ts';

/*
 * The anonymizer's contract.
 *
 * Input: a BucketAggregator holding, per bucket (a reported (label, value) pair, or an exception
 * message), the number of distinct users and the XOR of their 32-byte user keys. The caller
 * guarantees each user is counted at most once per bucket; partial aggregates built on several
 * workers over disjoint users merge into exactly what one node would build (merge is
 * associative and commutative: a count is a sum and a fingerprint an XOR).
 *
 * Output: only anonymized counts. Per bucket, in this order:
 *   1. Absolute floor: a true count <= absoluteFloor (2) is suppressed before any noise is drawn,
 *      so 1 or 2 users are never published whatever the secret or the settings.
 *   2. Noise: the count gets N(0, sd), sd = max(noiseSd, sqrtNoise * sqrt(count),
 *      relativeNoise * count) capped at maxNoiseSd, one sticky draw (below).
 *   3. Threshold: the bucket is suppressed when its noisy count (the draw of step 2, before any
 *      clamping) is below absoluteFloor + 1 + lowCountMargin * sd (43 for small counts). The
 *      threshold is thus noisy, and the decision is a function of the very count the
 *      participation budget priced: it adds no look of its own. A threshold drawn apart, on the
 *      true count (pg_diffix's 5.8 with sd 1), leaked with one label: 3 known users plus a victim
 *      were published 14 times as often as 3 (test/attacks/suppression-signal.test.ts, kappa 1.0
 *      at 1,000 victims). The margin keeps a bucket just above the floor from crossing (3e-5 at
 *      4 sd), so the floor's hard edge is almost never seen. Published counts carry the whole
 *      draw, never clamped (count-noise.ts: a clamp is an edge one user more can cross).
 *   4. Rounding: to a step of the 1-2-5 series near the noise (5 for small counts), never
 *      below one step, so published counts are positive and their last digits carry no noise.
 *
 * Sticky noise. Every draw is HMAC-SHA256(installation secret, domain tag, step, seed) turned
 * into a normal by Box-Muller. Nothing depends on the host's random source, the time or the
 * order of adding. The seed (seeds.ts) is the task's `question` (a hash of its code and data
 * selection, from the cloak), the bucket's identity (label and value, or the message) and the
 * fingerprint of its users: the same task over the same data always gets the same answer, so
 * repeating it cannot average the noise away, and anything else (another label, another task,
 * one user more or less) is an independent draw. Independent on purpose: a noise layer shared
 * between buckets over the same users (the former user-set layer) cancelled between a task with
 * the victim and one without exactly when the victim's bit was 0 (rerun-difference, kappa 1.0).
 * Averaging independent draws is what the participation budget prices, bucket by bucket.
 * Properties and exceptions are treated identically; only the seed's kind tag tells them apart.
 *
 * The suppression bucket. Given each user's properties (`memberships`), the users with at least
 * one property and none published are counted in one more bucket, label "*" and value "*"
 * (suppression-bucket.ts), which then goes through steps 1 to 4 like any other: it is published
 * only above the floor and its threshold, with its own sticky noise. It tells the analyst how
 * many users the published buckets leave out, never which. It is a fresh count of a user set the
 * analyst can shape (every user alone under a label of its own lands in it), so with the
 * participation budget the cloak settles it like any bucket and hands it in ready-made.
 *
 * The per-user participation budget lives in the cloak (src/cloak/participation-budget.ts): it
 * needs state across runs, and decides which users may enter which bucket before this runs.
 */

/**
 * The published count of one bucket, or undefined when it is suppressed. `question` is the
 * task's (seeds.ts): the same bucket asked by another task draws other noise.
 */
export function publishedCount(
  bucket: AggregatedBucket,
  secret: Uint8Array,
  settings: AnonymizerSettings,
  question: Uint8Array = NO_QUESTION,
): number | undefined {
  if (bucket.count <= settings.absoluteFloor) return undefined;
  const seed = bucketSeed(bucket, question);
  const draw = countNoise(bucket.count, secret, seed, settings, bucket.noiseCount);
  if (isLowCount(bucket.count, draw, settings)) return undefined;
  return roundCount(noisyValue(bucket.count, draw), settings);
}

/** Whether a bucket is published at all (for the suppression bucket: who is left out). */
export function isPublished(
  bucket: AggregatedBucket,
  secret: Uint8Array,
  settings: AnonymizerSettings,
  question: Uint8Array = NO_QUESTION,
): boolean {
  return publishedCount(bucket, secret, settings, question) !== undefined;
}

/**
 * Where the suppression bucket comes from: each user's properties, from which the anonymizer
 * finds the users none of whose buckets is published; or the bucket itself, already settled by
 * the participation budget (which charges its members like any other bucket's).
 */
export type SuppressionInput =
  { memberships: Iterable<UserMembership> } | { bucket: AggregatedBucket | undefined };

/**
 * Anonymizes every bucket of an aggregate, plus the suppression bucket when `suppression` is given
 * (each user's properties, as aggregated, or the settled bucket). Output order is deterministic: buckets by label, then
 * by count (largest first), then by value; exceptions by count (largest first), then by message.
 * Strings compare by UTF-16 code units, independent of locale.
 */
export function anonymize(
  agg: BucketAggregator,
  secret: Uint8Array,
  settings: AnonymizerSettings = DEFAULT_ANONYMIZER_SETTINGS,
  suppression?: SuppressionInput,
  question: Uint8Array = NO_QUESTION,
): AnonymizedResult {
  validateAnonymizerSettings(settings);
  if (secret.length === 0) throw new RangeError('the noise secret must not be empty');
  const buckets: PublishedBucket[] = [];
  const exceptions: PublishedException[] = [];
  const all = [...agg.buckets()];
  const suppressed =
    suppression === undefined
      ? undefined
      : 'bucket' in suppression
        ? suppression.bucket
        : suppressionBucket(agg, suppression.memberships, (b) =>
            isPublished(b, secret, settings, question),
          );
  if (suppressed !== undefined) all.push(suppressed);
  for (const bucket of all) {
    const count = publishedCount(bucket, secret, settings, question);
    if (count === undefined) continue;
    const { identity } = bucket;
    if (identity.kind === 'property') {
      buckets.push({ label: identity.label, value: identity.value, count });
    } else {
      exceptions.push({ error: identity.message, count });
    }
  }
  buckets.sort(
    (a, b) => compareText(a.label, b.label) || b.count - a.count || compareText(a.value, b.value),
  );
  exceptions.sort((a, b) => b.count - a.count || compareText(a.error, b.error));
  return { buckets, exceptions };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
