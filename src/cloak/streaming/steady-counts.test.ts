import { describe, expect, it } from 'vitest';
import { DEFAULT_ANONYMIZER_SETTINGS as DEFAULTS } from '../../anonymizer/index.ts';
import type { BudgetNotice } from '../../shared/index.ts';
import { publishedCounts, steadyCounts, steadyMargin } from './steady-counts.ts';

const result = (counts: Record<string, number>, errors: Record<string, number> = {}) => ({
  buckets: Object.entries(counts).map(([value, count]) => ({ label: 'l', value, count })),
  exceptions: Object.entries(errors).map(([error, count]) => ({ error, count })),
});

describe('steadyCounts', () => {
  const previous = publishedCounts(result({ a: 100, b: 10_000, c: 40 }, { boom: 20 }));

  it('keeps a count that moved within two noise sds, and takes one that moved more', () => {
    const next = steadyCounts(
      previous,
      result({ a: 115, b: 10_450, c: 70 }, { boom: 30 }),
      DEFAULTS,
    );
    expect(next.buckets.map((b) => b.count)).toEqual([100, 10_000, 70]);
    expect(next.exceptions[0]!.count).toBe(20);
    expect(steadyMargin(40, DEFAULTS)).toBe(20); // sd 10
    expect(steadyMargin(100, DEFAULTS)).toBe(28); // sd 14 (1.4 x sqrt(100))
    expect(steadyMargin(10_000, DEFAULTS)).toBe(600); // sd 300 (3%)
  });

  it('passes the report’s own budget notice through, never a kept one', () => {
    const budget = { users_left_out: 0, period_run: 7 } as BudgetNotice;
    expect(steadyCounts(previous, { ...result({ a: 100 }), budget }, DEFAULTS).budget).toBe(budget);
    expect(steadyCounts(previous, result({ a: 100 }), DEFAULTS).budget).toBeUndefined();
  });

  it('never brings back a bucket the anonymizer suppressed now, and takes new ones as they are', () => {
    const next = steadyCounts(previous, result({ a: 95, d: 30 }), DEFAULTS);
    expect(next.buckets).toEqual([
      { label: 'l', value: 'a', count: 100 },
      { label: 'l', value: 'd', count: 30 },
    ]);
  });
});
