// Count noise: its standard deviation for a count, the sticky layered draw, and the noisy count.
import { clampNoise, layeredNoise, type Seed } from './noise.ts';
import { NOISE_LAYERS } from './seeds.ts';
import type { AnonymizerSettings } from './settings.ts';

/** Names the count draws (the domain tag of every draw a bucket's count gets). */
export const COUNT_STEP = 'count';

/**
 * The total sd of the count noise: absolute for small counts (`noiseSd` per layer), proportional
 * for large ones (`relativeNoise * count`), never above `maxNoiseSd`.
 */
export function countNoiseSd(
  count: number,
  settings: AnonymizerSettings,
  layers: number = NOISE_LAYERS,
): number {
  const absolute = settings.noiseSd * Math.sqrt(layers);
  const relative = settings.relativeNoise * Math.abs(count);
  return Math.min(settings.maxNoiseSd, Math.max(absolute, relative));
}

/** One bucket's count noise: its sd and the unclamped sum of its layers. */
export interface CountNoise {
  sd: number;
  noise: number;
}

/**
 * The sum of one draw per layer seed, of total sd `countNoiseSd(max(count, noiseCount))`, not
 * clamped: the publication decision (low-count.ts) reads the Gaussian itself, so that it is a
 * function of what the budget priced, with no edge where the clamp piles its mass up.
 * `noiseCount` (default: the count itself; never less) is the count the noise was priced for
 * (AggregatedBucket.noiseCount).
 */
export function countNoise(
  count: number,
  secret: Uint8Array,
  seeds: readonly Seed[],
  settings: AnonymizerSettings,
  noiseCount: number = count,
): CountNoise {
  const sd = countNoiseSd(Math.max(count, noiseCount), settings, seeds.length);
  if (sd === 0) return { sd, noise: 0 };
  return { sd, noise: layeredNoise(secret, seeds, COUNT_STEP, sd / Math.sqrt(seeds.length)) };
}

/** The count plus its noise clamped to `maxDeviationSds` sd. Not rounded, not clamped at zero. */
export function noisyValue(count: number, draw: CountNoise, settings: AnonymizerSettings): number {
  return count + clampNoise(draw.noise, draw.sd, settings.maxDeviationSds);
}

/** `noisyValue` of the bucket's own draw: the count a bucket would show before rounding. */
export function noisyCount(
  count: number,
  secret: Uint8Array,
  seeds: readonly Seed[],
  settings: AnonymizerSettings,
  noiseCount: number = count,
): number {
  return noisyValue(count, countNoise(count, secret, seeds, settings, noiseCount), settings);
}
