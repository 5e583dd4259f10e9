import { describe, expect, it } from 'vitest';
import { publishedCounts, steadyCounts, steadyMargin } from './steady-counts.ts';

const result = (counts: Record<string, number>, errors: Record<string, number> = {}) => ({
  buckets: Object.entries(counts).map(([value, count]) => ({ label: 'l', value, count })),
  exceptions: Object.entries(errors).map(([error, count]) => ({ error, count })),
});

describe('steadyCounts', () => {
  const previous = publishedCounts(result({ a: 100, b: 10_000, c: 40 }, { boom: 20 }));

  it('keeps a count that moved within the margin, and takes one that moved more', () => {
    const next = steadyCounts(previous, result({ a: 105, b: 10_150, c: 50 }, { boom: 25 }));
    expect(next.buckets.map((b) => b.count)).toEqual([100, 10_000, 50]);
    expect(next.exceptions[0]!.count).toBe(20);
    expect(steadyMargin(100)).toBe(5);
    expect(steadyMargin(10_000)).toBe(200);
  });

  it('never brings back a bucket the anonymizer suppressed now, and takes new ones as they are', () => {
    const next = steadyCounts(previous, result({ a: 95, d: 30 }));
    expect(next.buckets).toEqual([
      { label: 'l', value: 'a', count: 100 },
      { label: 'l', value: 'd', count: 30 },
    ]);
  });
});
