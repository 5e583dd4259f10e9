// Streaming reports that do not flicker: a published count moves only when the change is larger
// than the noise could explain.
import { countNoiseSd, type AnonymizerSettings } from '../../anonymizer/index.ts';
import { roundingStep } from '../../anonymizer/rounding.ts';
import type { AnonymizedResult } from '../../shared/index.ts';

/**
 * A count within this distance of the last published one is published unchanged: two noise sds
 * at that count (two fresh draws differ by more only one time in six), and at least one rounding
 * step. With the default noise: 20 for small counts, 6% of large ones.
 */
export function steadyMargin(previous: number, settings: AnonymizerSettings): number {
  const sd = countNoiseSd(previous, settings);
  return Math.max(roundingStep(sd, settings), Math.ceil(2 * sd));
}

/**
 * Only buckets published both times keep their old count: a bucket the anonymizer suppresses now
 * stays suppressed, so a stale count never stands in for a bucket that has become too small.
 * Reusing a count that was already public reveals nothing new.
 */
export function steadyCounts(
  previous: ReadonlyMap<string, number>,
  current: AnonymizedResult,
  settings: AnonymizerSettings,
): AnonymizedResult {
  const keep = (key: string, count: number) => {
    const last = previous.get(key);
    return last !== undefined && Math.abs(count - last) <= steadyMargin(last, settings)
      ? last
      : count;
  };
  return {
    // The budget notice is this report's own: its figures are fresh, never kept.
    ...(current.budget ? { budget: current.budget } : {}),
    buckets: current.buckets.map((b) => ({
      ...b,
      count: keep(bucketKey(b.label, b.value), b.count),
    })),
    exceptions: current.exceptions.map((e) => ({
      ...e,
      count: keep(exceptionKey(e.error), e.count),
    })),
  };
}

export function bucketKey(label: string, value: string): string {
  return JSON.stringify(['p', label, value]);
}

export function exceptionKey(message: string): string {
  return JSON.stringify(['e', message]);
}

/** The keys and counts of a published result, to compare the next report with. */
export function publishedCounts(result: AnonymizedResult): Map<string, number> {
  return new Map([
    ...result.buckets.map((b) => [bucketKey(b.label, b.value), b.count] as const),
    ...result.exceptions.map((e) => [exceptionKey(e.error), e.count] as const),
  ]);
}
