// Low-count suppression: the absolute floor and the sticky noisy threshold a bucket must reach.
import { clampNoise, layeredNoise, type Seed } from './noise.ts';
import type { AnonymizerSettings } from './settings.ts';

/** Names the threshold draws, apart from the count draws of the same seeds. */
export const THRESHOLD_STEP = 'threshold';

/**
 * `lowCountMean` plus layered noise of total sd `lowCountSd` (clamped to `maxDeviationSds`),
 * drawn from the same seeds as the count noise: sticky per bucket identity and per set of users.
 */
export function noisyThreshold(
  secret: Uint8Array,
  seeds: readonly Seed[],
  settings: AnonymizerSettings,
): number {
  const sd = settings.lowCountSd;
  if (sd === 0) return settings.lowCountMean;
  const total = layeredNoise(secret, seeds, THRESHOLD_STEP, sd / Math.sqrt(seeds.length));
  return settings.lowCountMean + clampNoise(total, sd, settings.maxDeviationSds);
}

/**
 * Whether a bucket of `count` distinct users must be suppressed: always at or below the
 * absolute floor (decided before any noise is drawn), otherwise when the count is below its
 * noisy threshold.
 */
export function isLowCount(
  count: number,
  secret: Uint8Array,
  seeds: readonly Seed[],
  settings: AnonymizerSettings,
): boolean {
  if (count <= settings.absoluteFloor) return true;
  return count < noisyThreshold(secret, seeds, settings);
}
