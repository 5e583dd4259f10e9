// Count noise: its standard deviation for a count, and the sticky, layered, clamped noisy count.
import { clampNoise, layeredNoise, type Seed } from './noise.ts';
import { NOISE_LAYERS } from './seeds.ts';
import type { AnonymizerSettings } from './settings.ts';

/** Names the count draws, apart from the threshold draws of the same seeds. */
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

/**
 * The true count plus one draw per layer seed, the total of sd `countNoiseSd(noiseCount)`,
 * clamped to `maxDeviationSds` of that sd. `noiseCount` (default: the count itself; never less)
 * is the count the noise was priced for (AggregatedBucket.noiseCount). Not rounded and not clamped
 * at zero: see rounding.ts.
 */
export function noisyCount(
  count: number,
  secret: Uint8Array,
  seeds: readonly Seed[],
  settings: AnonymizerSettings,
  noiseCount: number = count,
): number {
  const sd = countNoiseSd(Math.max(count, noiseCount), settings, seeds.length);
  if (sd === 0) return count;
  const total = layeredNoise(secret, seeds, COUNT_STEP, sd / Math.sqrt(seeds.length));
  return count + clampNoise(total, sd, settings.maxDeviationSds);
}
