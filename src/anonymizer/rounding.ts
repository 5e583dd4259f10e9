// Rounding of noisy counts to a step that grows with the noise, never down to zero.
import { countNoiseSd } from './count-noise.ts';
import type { AnonymizerSettings } from './settings.ts';

const SERIES = [1, 2, 5] as const;

/**
 * The rounding step for a noise sd: `minRoundingStep` while the sd is no larger, otherwise the
 * smallest number of the 1-2-5 series (10, 20, 50, 100, ...) at least the sd. Small counts are
 * rounded to 5 and a count of sd 5 to 10, as in the 2015 system; larger counts to a step near
 * their noise, so that no published digit is pure noise.
 */
export function roundingStep(sd: number, settings: AnonymizerSettings): number {
  if (sd <= settings.minRoundingStep) return settings.minRoundingStep;
  for (let decade = 1; ; decade *= 10) {
    for (const m of SERIES) if (m * decade >= sd) return m * decade;
  }
}

/**
 * Rounds a noisy count to its step (half up), and clamps it to at least one step, so a
 * published count is never 0 or negative. The step is chosen from the sd expected at the *noisy*
 * count, not the true one: a step then tells nothing that the published count does not.
 */
export function roundCount(noisy: number, settings: AnonymizerSettings): number {
  const step = roundingStep(countNoiseSd(noisy, settings), settings);
  return Math.max(step, Math.round(noisy / step) * step);
}
