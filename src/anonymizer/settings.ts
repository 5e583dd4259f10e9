// The anonymizer's parameters: one typed settings object, its defaults, and its one validation step.

/**
 * Every number the anonymizer uses. All counts are in distinct users.
 */
export interface AnonymizerSettings {
  /**
   * A bucket whose true distinct-user count is at or below this is never published, whatever the
   * noise. The specification requires that 1 or 2 users are never published, so validation
   * rejects anything below 2. Default 2.
   */
  absoluteFloor: number;
  /**
   * How far above the floor a bucket's noisy count must be to be published, in sds of its own
   * count noise: a bucket is published when its true count plus its noise (unclamped) reaches
   * `absoluteFloor + 1 + lowCountMargin * sd`, 43 for small counts at the defaults. Default 4: a
   * bucket just above the floor is then published about 3 times in 100,000 looks, so the floor's
   * hard edge (the one step the noise cannot blur) is almost never seen, and the decision is a
   * function of the count the budget priced (docs/anonymization.md, "The threshold").
   */
  lowCountMargin: number;
  /**
   * The count-noise sd of small counts, in users: the sd is
   * `max(noiseSd, sqrtNoise * sqrt(count), relativeNoise * count)`. Default 10 (counts up to 51):
   * a fresh small bucket then costs 0.005 of the participation budget, where sd 3 cost 0.056
   * (docs/anonymization.md, "Why these noise levels and 0.02").
   */
  noiseSd: number;
  /**
   * Count-noise sd in units of the count's square root, for mid-sized counts (52 to 2,177 users at
   * the defaults). Default 1.4: a member of a bucket of n users then pays 1 / (2 x 1.96 n), so a
   * user's cost in one question is about the sum of 1 / n over their buckets, and a breakdown that
   * puts each user in nine buckets of 200 costs 0.011 instead of 0.045. The relative error
   * (1.4 / sqrt(n): 10% at 200 users, 4.4% at 1,000) is about the sampling error such a count
   * already has.
   */
  sqrtNoise: number;
  /**
   * Count-noise sd as a fraction of the count, for large counts (from 2,178 users at the
   * defaults). Default 0.03 (a mean error of about 2.4%): large buckets cost little (10,000
   * users: 0.0000056), so that questions putting each user in tens of large buckets fit in the
   * budget; at 1/300 a heat map or a weekly report spent it in one go.
   */
  relativeNoise: number;
  /** Cap on the count-noise sd, whatever the count. Default 1000 (reached at 33,333 users). */
  maxNoiseSd: number;
  /**
   * The smallest rounding step. A noisy count is rounded to a multiple of the step: the smallest
   * number of the 1-2-5 series (5, 10, 20, 50, 100, ...) that is at least this and at least the
   * noise sd expected at that (noisy) count. Default 5 (the 2015 system's step for small counts).
   * A published count is never below this step, so it is never 0 or negative.
   */
  minRoundingStep: number;
}

/** The production parameters; see src/anonymizer/README.md for why each has its value. */
export const DEFAULT_ANONYMIZER_SETTINGS: Readonly<AnonymizerSettings> = Object.freeze({
  absoluteFloor: 2,
  lowCountMargin: 4,
  noiseSd: 10,
  sqrtNoise: 1.4,
  relativeNoise: 0.03,
  maxNoiseSd: 1000,
  minRoundingStep: 5,
});

/**
 * No noise at all, for exact tests: counts are the true counts (then rounded to the step), and
 * every count above the absolute floor is published.
 * Use `{ ...NOISELESS_SETTINGS, minRoundingStep: 1 }` to see the true counts themselves.
 */
export const NOISELESS_SETTINGS: Readonly<AnonymizerSettings> = Object.freeze({
  ...DEFAULT_ANONYMIZER_SETTINGS,
  noiseSd: 0,
  sqrtNoise: 0,
  relativeNoise: 0,
  maxNoiseSd: 0,
});

/**
 * The settings of a run that nobody is charged for (a trusted analyst's, or an installation
 * without the participation budget). The square-root part of the noise is there to make looks
 * cheap for the budget; without a budget it buys nothing, so such runs get the finer curve: sd 10
 * up to 333 users, 3% above (docs/anonymization.md, "Access levels").
 */
export function unchargedSettings(settings: AnonymizerSettings): AnonymizerSettings {
  return settings.sqrtNoise === 0 ? settings : { ...settings, sqrtNoise: 0 };
}

/** The smallest absolute floor the specification allows: 1 or 2 users are never published. */
export const MIN_ABSOLUTE_FLOOR = 2;

type Rule = (value: number) => boolean;

const finiteAtLeast =
  (min: number): Rule =>
  (v) =>
    Number.isFinite(v) && v >= min;
const integerAtLeast =
  (min: number): Rule =>
  (v) =>
    Number.isInteger(v) && v >= min;

const RULES: Record<keyof AnonymizerSettings, [Rule, string]> = {
  absoluteFloor: [
    integerAtLeast(MIN_ABSOLUTE_FLOOR),
    `an integer >= ${MIN_ABSOLUTE_FLOOR} (1 or 2 users are never published)`,
  ],
  lowCountMargin: [finiteAtLeast(0), 'a finite number >= 0'],
  noiseSd: [finiteAtLeast(0), 'a finite number >= 0'],
  sqrtNoise: [finiteAtLeast(0), 'a finite number >= 0'],
  relativeNoise: [finiteAtLeast(0), 'a finite number >= 0'],
  maxNoiseSd: [finiteAtLeast(0), 'a finite number >= 0'],
  minRoundingStep: [integerAtLeast(1), 'an integer >= 1'],
};

/**
 * Checks every field and throws a RangeError naming the first bad one. Returns the settings, so
 * that callers can validate once at start-up: `const s = validateAnonymizerSettings(input)`.
 */
export function validateAnonymizerSettings(settings: AnonymizerSettings): AnonymizerSettings {
  for (const [name, [rule, expected]] of Object.entries(RULES)) {
    const value = (settings as unknown as Record<string, unknown>)[name];
    if (typeof value !== 'number' || !rule(value)) {
      throw new RangeError(
        `anonymizer setting "${name}" must be ${expected}, got ${String(value)}; ` +
          `see DEFAULT_ANONYMIZER_SETTINGS for the default.`,
      );
    }
  }
  return settings;
}
