// Noisy anonymization, seeded with fixed secrets: sticky, unbiased, bounded, and never 1 or 2 users.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BucketAggregator, type AggregatedBucket } from './aggregator.ts';
import { anonymize, publishedCount } from './anonymize.ts';
import { countNoise, countNoiseSd, noisyCount } from './count-noise.ts';
import { lowCountThreshold } from './low-count.ts';
import { bucketSeed } from './seeds.ts';
import { DEFAULT_ANONYMIZER_SETTINGS as DEFAULTS, type AnonymizerSettings } from './settings.ts';
import { oneBucket, testSecret, users } from './test-support.ts';

const secret = testSecret('noisy');
const keys = users(secret, 600);

/** Many buckets of one true size, each with its own (pseudo-random) set of users. */
function manyBuckets(n: number, count: number, tag = 'b'): BucketAggregator {
  const fingerprint = (i: number) =>
    createHash('sha256').update(`${tag}:${i}`).digest().toString('base64');
  return BucketAggregator.fromJSON({
    format: 'opencloak/partial-aggregate/v1',
    properties: Array.from({ length: n }, (_, i) => ['l', `${tag}${i}`, count, fingerprint(i)]),
    exceptions: [],
  });
}

function errors(agg: BucketAggregator, count: number, s = secret): number[] {
  return anonymize(agg, s).buckets.map((b) => b.count - count);
}

function bucketOf(agg: BucketAggregator): AggregatedBucket {
  return [...agg.buckets()][0]!;
}

describe('noisy anonymization', () => {
  it('is sticky: the same data gives the same answer, whatever the order of adding', () => {
    const forward = new BucketAggregator();
    const backward = new BucketAggregator();
    for (const [i, k] of keys.entries()) forward.addProperty('mod', String(i % 13), k);
    for (const [i, k] of [...keys.entries()].reverse())
      backward.addProperty('mod', String(i % 13), k);
    const first = anonymize(forward, secret);
    expect(anonymize(forward, secret)).toEqual(first);
    expect(anonymize(backward, secret)).toEqual(first);
    expect(first.buckets.map((b) => b.count)).not.toEqual(first.buckets.map(() => 45));
  });

  it('draws different noise with a different secret', () => {
    const agg = manyBuckets(200, 1000);
    const byValue = (s: Uint8Array) =>
      new Map(anonymize(agg, s).buckets.map((b) => [b.value, b.count]));
    const a = byValue(testSecret('one'));
    const b = byValue(testSecret('two'));
    expect(a.size).toBe(200);
    const differ = [...a].filter(([value, count]) => b.get(value) !== count).length;
    expect(differ).toBeGreaterThan(100); // about 150 expected: sd 3.3 against a step of 5
  });

  it('keeps counts of 1,000 users within 4.4% (one sd) mostly and 13% plus rounding nearly always, unbiased', () => {
    const errs = errors(manyBuckets(4000, 1000), 1000);
    expect(errs).toHaveLength(4000);
    // Noise sd 44.3 (1.4 sqrt(1,000)), never clamped; rounding to 50 adds at most 25. Beyond 3 sd:
    // 0.27% of draws.
    const noiseSd = countNoiseSd(1000, DEFAULTS);
    expect(noiseSd).toBeCloseTo(1.4 * Math.sqrt(1000), 6);
    const beyond = errs.filter((e) => Math.abs(e) > 3 * noiseSd + 25).length;
    expect(beyond / errs.length).toBeLessThan(0.005);
    const within = errs.filter((e) => Math.abs(e) <= noiseSd + 25).length;
    expect(within / errs.length).toBeGreaterThanOrEqual(0.8);
    const mean = errs.reduce((a, e) => a + e, 0) / errs.length;
    const sd = Math.sqrt(errs.reduce((a, e) => a + (e - mean) ** 2, 0) / errs.length);
    expect(Math.abs(mean)).toBeLessThan(3.5); // standard error about 0.75
    expect(sd).toBeGreaterThan(42); // noise sd 44.3, rounding sd 14.4: 46.6 together
    expect(sd).toBeLessThan(51);
  });

  it('grows the noise sd from 10 for small counts, as 1.4 sqrt(n) for mid-sized ones, to 3% and the cap', () => {
    const sd = (n: number) => countNoiseSd(n, DEFAULTS);
    expect(sd(3)).toBe(10);
    expect(sd(51)).toBe(10); // 1.4 sqrt(51) = 9.998
    expect(sd(200)).toBeCloseTo(19.8, 1);
    expect(sd(2000)).toBeCloseTo(62.6, 1); // the square root still above 3% (60)
    expect(sd(10_000)).toBeCloseTo(300, 6); // 3% from 2,178 users on
    expect(sd(1_000_000)).toBe(1000);
    // Never smaller for a larger count: a padded bucket never gets less noise than its members'.
    for (let n = 1; n < 40_000; n += 7) expect(sd(n + 7)).toBeGreaterThanOrEqual(sd(n));
  });

  it('adds about 10 users of noise to small counts, with the Gaussian tails unclamped', () => {
    const raw = [...manyBuckets(3000, 50).buckets()].map(
      (b) => noisyCount(50, secret, bucketSeed(b), DEFAULTS) - 50,
    );
    const sd = Math.sqrt(raw.reduce((a, e) => a + e ** 2, 0) / raw.length);
    const expected = DEFAULTS.noiseSd;
    expect(countNoiseSd(50, DEFAULTS)).toBeCloseTo(expected, 10);
    expect(expected).toBeCloseTo(10, 2);
    expect(sd).toBeGreaterThan(9.4);
    expect(sd).toBeLessThan(10.6);
    // No clamp: a clamp at k sd is an edge that one user more moves across a rounding boundary
    // (count-noise.ts). About 8 of 3,000 draws lie beyond 3 sd, as a Gaussian's should.
    const beyond = raw.filter((e) => Math.abs(e) > 3 * expected).length;
    expect(beyond).toBeGreaterThan(0);
    expect(beyond / raw.length).toBeLessThan(0.01);
  });

  it('draws the noise of a bucket for its noise count when that is larger (what the budget priced)', () => {
    const agg = manyBuckets(3000, 50);
    for (const b of agg.buckets()) agg.setNoiseCount(b.identity, 30_000);
    const raw = [...agg.buckets()].map(
      (b) => noisyCount(b.count, secret, bucketSeed(b), DEFAULTS, b.noiseCount) - 50,
    );
    const sd = Math.sqrt(raw.reduce((a, e) => a + e ** 2, 0) / raw.length);
    // sd 900 (3% of 30,000), not the 10 of 50 users.
    expect(countNoiseSd(30_000, DEFAULTS)).toBeCloseTo(900, 6);
    expect(sd).toBeGreaterThan(810);
    expect(sd).toBeLessThan(960);
    // A noise count below the count changes nothing: never less noise than the count's own.
    const same = manyBuckets(3000, 50);
    for (const b of same.buckets()) same.setNoiseCount(b.identity, 10);
    expect(anonymize(same, secret)).toEqual(anonymize(manyBuckets(3000, 50), secret));
  });

  it('publishes by the noisy count: half of 43-user buckets, almost none just above the floor', () => {
    // The threshold is 3 + 4 sd = 43 on the count plus its own noise (sd 10).
    const rate = (count: number, n: number) =>
      anonymize(manyBuckets(n, count), secret).buckets.length / n;
    const half = rate(43, 4000);
    expect(half).toBeGreaterThan(0.45);
    expect(half).toBeLessThan(0.55);
    expect(rate(80, 2000)).toBeGreaterThan(0.95); // sd 12.5, threshold 53: P(Z >= -2.15) = 0.984
    expect(rate(23, 4000)).toBeLessThan(0.04); // P(Z >= 2) = 0.023
    expect(rate(3, 20_000)).toBeLessThan(0.0005); // P(Z >= 4) = 3e-5
    // The decision is the published count's own: exactly the buckets whose unclamped noisy
    // count reaches the threshold, and sticky.
    const agg = manyBuckets(2000, 40);
    for (const bucket of agg.buckets()) {
      const draw = countNoise(bucket.count, secret, bucketSeed(bucket), DEFAULTS);
      const published = publishedCount(bucket, secret, DEFAULTS);
      expect(published !== undefined).toBe(40 + draw.noise >= lowCountThreshold(draw.sd, DEFAULTS));
    }
    expect(anonymize(agg, secret)).toEqual(anonymize(agg, secret));
  });

  it('does not tell 3 known users plus a victim from the 3 alone (the one-label suppression signal)', () => {
    // Before: a threshold on the true count (5.8, sd 1) published 4 users 14 times as often as 3.
    const published = (count: number): number => {
      let shown = 0;
      for (let i = 0; i < 50_000; i++) {
        const fingerprint = new Uint8Array(32);
        new DataView(fingerprint.buffer).setUint32(0, i + count * 1_000_000);
        const bucket = {
          identity: { kind: 'property' as const, label: 'group', value: String(i) },
          count,
          fingerprint,
        };
        if (publishedCount(bucket, secret, DEFAULTS) !== undefined) shown++;
      }
      return shown;
    };
    // 50,000 groups each: at 3e-5 and 5e-5 a look, a handful in all, against 180 and 1,800 before.
    expect(published(3) + published(4)).toBeLessThan(20);
  });

  it('never publishes a bucket or exception of 1 or 2 users in 10,000 varied trials', () => {
    const permissive: AnonymizerSettings = {
      ...DEFAULTS,
      lowCountMargin: 0,
      noiseSd: 10,
    };
    let threes = 0;
    for (let trial = 0; trial < 10_000; trial++) {
      const trialSecret = testSecret(`trial${trial % 97}`);
      const agg = new BucketAggregator();
      const at = (i: number) => keys[(trial * 7 + i * 31) % keys.length]!;
      agg.addProperty(`one${trial % 13}`, `v${trial}`, at(0));
      agg.addException(`one${trial}`, at(1));
      for (const i of [2, 3]) agg.addProperty(`two${trial % 11}`, `v${trial}`, at(i));
      for (const i of [4, 5]) agg.addException(`two${trial}`, at(i));
      for (const i of [6, 7, 8]) agg.addProperty('three', `v${trial}`, at(i));
      const result = anonymize(agg, trialSecret, trial % 2 === 0 ? DEFAULTS : permissive);
      expect(result.buckets.filter((b) => b.label !== 'three')).toEqual([]);
      expect(result.exceptions).toEqual([]);
      threes += result.buckets.length;
    }
    expect(threes).toBeGreaterThan(1000); // the floor, not chance, kept the small ones out
  });

  it('draws anew when one user is swapped, though the count is the same', () => {
    const before = bucketOf(oneBucket('l', 'v', keys.slice(0, 20)));
    const after = bucketOf(oneBucket('l', 'v', [...keys.slice(0, 19), keys[500]!]));
    expect(after.count).toBe(before.count);
    const noisy = (b: AggregatedBucket) => noisyCount(b.count, secret, bucketSeed(b), DEFAULTS);
    expect(noisy(after)).not.toBe(noisy(before));
  });

  it('draws independently for another label or another task over the same users, the same for the same', () => {
    // No noise shared between buckets: a shared part cancels between a task with a victim and
    // one without exactly when the victim is not there (test/attacks/rerun-difference.test.ts).
    const [taskA, taskB] = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
    const pairs: Array<[number, number]> = [];
    const relabelled: Array<[number, number]> = [];
    for (let i = 0; i < 3000; i++) {
      const members = keys.slice(i % 500, (i % 500) + 20 + (i % 80));
      const b = bucketOf(oneBucket('l', `v${i}`, members));
      const renamed = bucketOf(oneBucket('l2', `v${i}`, members));
      const draw = (x: AggregatedBucket, q: Uint8Array) =>
        countNoise(x.count, secret, bucketSeed(x, q), DEFAULTS).noise;
      expect(draw(b, taskA)).toBe(draw(b, taskA));
      pairs.push([draw(b, taskA), draw(b, taskB)]);
      relabelled.push([draw(b, taskA), draw(renamed, taskA)]);
    }
    // Correlation over 3,000 pairs: standard error about 0.018; a shared half of the variance
    // (the former user-set layer) gave 0.5.
    expect(Math.abs(correlation(pairs))).toBeLessThan(0.08);
    expect(Math.abs(correlation(relabelled))).toBeLessThan(0.08);
  });

  it('publishes only positive multiples of the step, even for counts at the threshold', () => {
    const permissive = { ...DEFAULTS, lowCountMargin: 0, noiseSd: 5 };
    for (const count of [3, 4, 5, 6, 8, 12]) {
      for (const bucket of manyBuckets(500, count, `c${count}`).buckets()) {
        const published = publishedCount(bucket, secret, permissive);
        if (published === undefined) continue;
        expect(published).toBeGreaterThan(0);
        expect(published % 5).toBe(0);
      }
    }
  });
});

function correlation(pairs: Array<[number, number]>): number {
  const n = pairs.length;
  const mean = (k: 0 | 1) => pairs.reduce((a, p) => a + p[k], 0) / n;
  const [mx, my] = [mean(0), mean(1)];
  let [sxy, sxx, syy] = [0, 0, 0];
  for (const [x, y] of pairs) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
