// Scenario: the anonymizer's utility: mean relative error of large counts, the threshold and who it publishes.
import { createHash } from 'node:crypto';
import {
  countNoiseSd,
  DEFAULT_ANONYMIZER_SETTINGS,
  NOISELESS_SETTINGS,
  publishedCount,
  type AggregatedBucket,
  type AnonymizerSettings,
} from '../../src/anonymizer/index.ts';
// Internals on purpose: the threshold itself is not published, only whether a bucket clears it.
import { lowCountThreshold } from '../../src/anonymizer/low-count.ts';
import { roundingStep } from '../../src/anonymizer/rounding.ts';
import type { BenchSize, Scenario } from '../harness.ts';

const SECRET = new Uint8Array(32).fill(11);

/**
 * A bucket of `count` users. The noise depends on the users only through the fingerprint (the
 * XOR of their HMAC keys), which is uniform for distinct sets, so a hash stands in for building
 * sets of up to a million keys.
 */
function bucket(i: number, count: number): AggregatedBucket {
  const fingerprint = new Uint8Array(createHash('sha256').update(`set-${i}`).digest());
  return { identity: { kind: 'property', label: 'size', value: String(i) }, count, fingerprint };
}

/** Counts from 1,000 to 1,000,000 users, log-uniform, the same every run. */
function largeCounts(size: BenchSize): number[] {
  const n = size === 'full' ? 20_000 : 2_000;
  return Array.from({ length: n }, (_, i) => Math.round(1000 * 1000 ** ((i + 0.5) / n)));
}

export interface UtilityReport {
  /** Mean |published - true| / true over buckets of >= 1,000 users (noise and rounding). */
  meanRelativeError: number;
  /** Fraction of buckets >= 1,000 users published within 1% of the truth plus half a step. */
  withinTarget: number;
  /** The same without the rounding allowance. */
  withinOnePercent: number;
  /** The threshold a small bucket's noisy count must reach. */
  smallCountThreshold: number;
  /** Fraction of buckets published, by true count from just above the floor to twice the threshold. */
  publishedRate: Record<string, number>;
}

export function measureUtility(size: BenchSize, settings: AnonymizerSettings): UtilityReport {
  const counts = largeCounts(size);
  let target = 0;
  let strict = 0;
  let relative = 0;
  counts.forEach((count, i) => {
    const published = publishedCount(bucket(i, count), SECRET, settings);
    if (published === undefined) return;
    const error = Math.abs(published - count);
    relative += error / count;
    const step = roundingStep(countNoiseSd(published, settings), settings);
    if (error <= 0.01 * count + step / 2) target++;
    if (error <= 0.01 * count) strict++;
  });
  const sets = size === 'full' ? 100_000 : 10_000;
  const publishedRate: Record<string, number> = {};
  for (const count of [3, 4, 6, 10, 15, 20, 30, 43, 55, 70, 90]) {
    let shown = 0;
    for (let i = 0; i < sets; i++) {
      if (publishedCount(bucket(i, count), SECRET, settings) !== undefined) shown++;
    }
    publishedRate[String(count)] = Number((shown / sets).toFixed(4));
  }
  return {
    meanRelativeError: relative / counts.length,
    withinTarget: target / counts.length,
    withinOnePercent: strict / counts.length,
    smallCountThreshold: lowCountThreshold(countNoiseSd(0, settings), settings),
    publishedRate,
  };
}

function side(settings: AnonymizerSettings) {
  return async (size: BenchSize) => {
    const report = measureUtility(size, settings);
    return {
      value: report.meanRelativeError,
      unit: 'mean relative error, >= 1,000 users',
      notes: {
        withinOnePercentPlusRounding: Number(report.withinTarget.toFixed(4)),
        withinOnePercent: Number(report.withinOnePercent.toFixed(4)),
        smallCountThreshold: Number(report.smallCountThreshold.toFixed(3)),
        publishedRate: JSON.stringify(report.publishedRate),
      },
    };
  };
}

export const anonymizerUtilityScenario: Scenario = {
  name: 'anonymizer-utility',
  description:
    'buckets of 1,000 to 1,000,000 users: mean relative error (noise sd 1.4 sqrt(n) up to 2,177 users, then 3%, capped at 1,000 users); the threshold and the share published by count',
  better: 'lower',
  // Issue 14's large-count target (a mean error within 3%); issue 5's 1% predates the re-pricing.
  targetValue: 0.03,
  sides: {
    // The default anonymizer against exact counts (no noise: every count above the floor).
    figure: side(DEFAULT_ANONYMIZER_SETTINGS),
    baseline: side(NOISELESS_SETTINGS),
  },
};
