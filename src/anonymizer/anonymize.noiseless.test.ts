// Noiseless anonymization (every sd zero): exact counts, floor, rounding, merge, order.
import { describe, expect, it } from 'vitest';
import { BucketAggregator } from './aggregator.ts';
import { anonymize } from './anonymize.ts';
import { roundCount } from './rounding.ts';
import { NOISELESS_SETTINGS } from './settings.ts';
import { oneBucket, testSecret, users } from './test-support.ts';

const secret = testSecret('noiseless');
const keys = users(secret, 2000);
/** No noise and no rounding: the published count is the true count. */
const EXACT = { ...NOISELESS_SETTINGS, minRoundingStep: 1 };

/** Bucket `size<n>` holds the first n users, for n in sizes. */
function bySize(sizes: readonly number[]): BucketAggregator {
  const agg = new BucketAggregator();
  for (const n of sizes) for (const k of keys.slice(0, n)) agg.addProperty('size', `${n}`, k);
  return agg;
}

describe('noiseless anonymization', () => {
  it('publishes every true count above the floor when there is no noise (no margin to keep)', () => {
    const result = anonymize(bySize([1, 2, 3, 4, 100]), secret, EXACT);
    expect(result.buckets).toEqual([
      { label: 'size', value: '100', count: 100 },
      { label: 'size', value: '4', count: 4 },
      { label: 'size', value: '3', count: 3 },
    ]);
  });

  it('never publishes 1 or 2 users, whatever the margin', () => {
    for (const lowCountMargin of [0, 4, 100]) {
      const result = anonymize(bySize([1, 2, 3]), secret, { ...EXACT, lowCountMargin });
      expect(result.buckets).toEqual([{ label: 'size', value: '3', count: 3 }]);
    }
  });

  it('applies a higher absolute floor exactly', () => {
    const settings = { ...EXACT, absoluteFloor: 10 };
    const result = anonymize(bySize([10, 11]), secret, settings);
    expect(result.buckets.map((b) => b.count)).toEqual([11]);
  });

  it('rounds to multiples of 5 and never below 5', () => {
    const result = anonymize(bySize([6, 7, 8, 12, 13, 1002]), secret, NOISELESS_SETTINGS);
    expect(result.buckets.map((b) => [b.value, b.count])).toEqual([
      ['1002', 1000],
      ['13', 15],
      ['12', 10],
      ['8', 10],
      ['6', 5],
      ['7', 5],
    ]);
  });

  it('rounds large counts to a step near the noise they get: 10 at 2,000 users', () => {
    // The step follows the sd relative noise would give (6.7 at 2,000: step 10), noise aside.
    const settings = { ...NOISELESS_SETTINGS, relativeNoise: 0.01 / 3, maxNoiseSd: 1000 };
    expect(roundCount(1996, settings)).toBe(2000);
    expect(anonymize(bySize([1996]), secret, NOISELESS_SETTINGS).buckets[0]!.count).toBe(1995);
  });

  it('treats exceptions exactly like buckets', () => {
    const agg = new BucketAggregator();
    for (const [message, n] of [
      ['two', 2],
      ['five', 5],
      ['six', 6],
      ['forty', 40],
    ] as const) {
      for (const k of keys.slice(0, n)) agg.addException(message, k);
    }
    expect(anonymize(agg, secret, EXACT).exceptions).toEqual([
      { error: 'forty', count: 40 },
      { error: 'six', count: 6 },
      { error: 'five', count: 5 },
    ]);
  });

  it('publishes the same result from merged partials as from one aggregator', () => {
    const feed = (agg: BucketAggregator, from: number, to: number) => {
      for (let i = from; i < to; i++) {
        agg.addProperty('mod7', String(i % 7), keys[i]!);
        agg.addProperty('rare', String(i % 300), keys[i]!);
        if (i % 3 === 0) agg.addException(`err${i % 2}`, keys[i]!);
      }
      return agg;
    };
    const whole = feed(new BucketAggregator(), 0, 1500);
    const merged = new BucketAggregator();
    for (const [from, to] of [
      [0, 100],
      [100, 900],
      [900, 1500],
    ] as const) {
      merged.merge(
        BucketAggregator.fromJSON(
          JSON.parse(JSON.stringify(feed(new BucketAggregator(), from, to))),
        ),
      );
    }
    expect(anonymize(merged, secret, EXACT)).toEqual(anonymize(whole, secret, EXACT));
    expect(anonymize(merged, secret)).toEqual(anonymize(whole, secret));
  });

  it('orders buckets by label, then count descending, then value; exceptions by count, message', () => {
    const agg = new BucketAggregator();
    const add = (label: string, value: string, n: number) => {
      for (const k of keys.slice(0, n)) agg.addProperty(label, value, k);
    };
    add('b', 'z', 10);
    add('a', 'y', 10);
    add('a', 'x', 10);
    add('a', 'w', 20);
    add('B', 'v', 10);
    for (const k of keys.slice(0, 10)) agg.addException('beta', k);
    for (const k of keys.slice(0, 10)) agg.addException('alpha', k);
    for (const k of keys.slice(0, 30)) agg.addException('gamma', k);
    const result = anonymize(agg, secret, EXACT);
    expect(result.buckets.map((b) => `${b.label}:${b.value}`)).toEqual([
      'B:v',
      'a:w',
      'a:x',
      'a:y',
      'b:z',
    ]);
    expect(result.exceptions.map((e) => e.error)).toEqual(['gamma', 'alpha', 'beta']);
  });

  it('publishes an empty result for an empty aggregate', () => {
    expect(anonymize(new BucketAggregator(), secret)).toEqual({ buckets: [], exceptions: [] });
  });

  it('refuses invalid settings and an empty secret', () => {
    const agg = oneBucket('l', 'v', keys.slice(0, 10));
    expect(() => anonymize(agg, secret, { ...EXACT, absoluteFloor: 0 })).toThrow(/absoluteFloor/);
    expect(() => anonymize(agg, new Uint8Array(0))).toThrow(/secret/);
  });
});
