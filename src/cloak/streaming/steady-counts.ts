// Streaming reports that do not flicker: a published count moves only when the change is larger
// than the noise could explain.
import type { AnonymizedResult } from '../../shared/index.ts';

/**
 * A count within this distance of the last published one is published unchanged: at least one
 * rounding step of small counts (5), and 2% of large ones (three noise sds are 1%).
 */
export function steadyMargin(previous: number): number {
  return Math.max(5, Math.ceil(0.02 * previous));
}

/**
 * Only buckets published both times keep their old count: a bucket the anonymizer suppresses now
 * stays suppressed, so a stale count never stands in for a bucket that has become too small.
 * Reusing a count that was already public reveals nothing new.
 */
export function steadyCounts(
  previous: ReadonlyMap<string, number>,
  current: AnonymizedResult,
): AnonymizedResult {
  const keep = (key: string, count: number) => {
    const last = previous.get(key);
    return last !== undefined && Math.abs(count - last) <= steadyMargin(last) ? last : count;
  };
  return {
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
