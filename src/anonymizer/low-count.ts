// Low-count suppression: the absolute floor, and the threshold the noisy count must reach.
import type { CountNoise } from './count-noise.ts';
import type { AnonymizerSettings } from './settings.ts';

/**
 * What a bucket's noisy count must reach to be published, for noise of total sd `sd`: one user
 * above the floor plus `lowCountMargin` sd. A bucket just above the floor then crosses it only
 * when its noise is `lowCountMargin` sd or more (about 3e-5 at 4), so the floor's hard edge, the
 * one step the noise cannot blur, is almost never seen.
 */
export function lowCountThreshold(sd: number, settings: AnonymizerSettings): number {
  return settings.absoluteFloor + 1 + settings.lowCountMargin * sd;
}

/**
 * Whether a bucket of `count` distinct users must be suppressed: always at or below the absolute
 * floor (decided before any noise), otherwise when its count plus its own count noise (`draw`,
 * unclamped) is below the threshold. The decision reads only the noisy count the participation
 * budget charged for, so it tells an analyst nothing that count does not; a threshold drawn apart
 * from it, on the true count, was a look the budget did not price (docs/anonymization.md, "The
 * threshold").
 */
export function isLowCount(count: number, draw: CountNoise, settings: AnonymizerSettings): boolean {
  if (count <= settings.absoluteFloor) return true;
  return count + draw.noise < lowCountThreshold(draw.sd, settings);
}
