// Count noise: its standard deviation for a count, the sticky draw, and the noisy count.
import { noise, type Seed } from './noise.ts';
import type { AnonymizerSettings } from './settings.ts';

/** Names the count draws (the domain tag of every draw a bucket's count gets). */
export const COUNT_STEP = 'count';

/**
 * The sd of the count noise: absolute for small counts (`noiseSd`), growing as the count's square
 * root for mid-sized ones (`sqrtNoise * sqrt(count)`), proportional for large ones
 * (`relativeNoise * count`), never above `maxNoiseSd`.
 */
export function countNoiseSd(count: number, settings: AnonymizerSettings): number {
  const n = Math.abs(count);
  const sd = Math.max(
    settings.noiseSd,
    settings.sqrtNoise * Math.sqrt(n),
    settings.relativeNoise * n,
  );
  return Math.min(settings.maxNoiseSd, sd);
}

/** One bucket's count noise: its sd and the unclamped draw. */
export interface CountNoise {
  sd: number;
  noise: number;
}

/**
 * The bucket's draw (seeds.ts: `bucketSeed`), of sd `countNoiseSd(max(count, noiseCount))`, not
 * clamped: the publication decision (low-count.ts) reads the Gaussian itself, so that it is a
 * function of what the budget priced, with no edge where the clamp piles its mass up.
 * `noiseCount` (default: the count itself; never less) is the count the noise was priced for
 * (AggregatedBucket.noiseCount).
 */
export function countNoise(
  count: number,
  secret: Uint8Array,
  seed: Seed,
  settings: AnonymizerSettings,
  noiseCount: number = count,
): CountNoise {
  const sd = countNoiseSd(Math.max(count, noiseCount), settings);
  return { sd, noise: noise(secret, seed, COUNT_STEP, sd) };
}

/**
 * The count plus its whole draw. Not rounded, and never clamped: a clamp to k sd piles the tail's
 * mass on the edge count + k sd, and one user more moves that edge across a rounding boundary
 * (at sd 10 and step 10, 64 users can never show 100 and 65 can, once in 740 looks), so a
 * published value would now and then be impossible without the victim. The Gaussian's tails are
 * what the participation budget priced; rounding keeps the last digits from carrying noise.
 */
export function noisyValue(count: number, draw: CountNoise): number {
  return count + draw.noise;
}

/** `noisyValue` of the bucket's own draw: the count a bucket would show before rounding. */
export function noisyCount(
  count: number,
  secret: Uint8Array,
  seed: Seed,
  settings: AnonymizerSettings,
  noiseCount: number = count,
): number {
  return noisyValue(count, countNoise(count, secret, seed, settings, noiseCount));
}
