// The suppression bucket: users whose every property was suppressed, anonymized like any bucket.
import { describe, expect, it } from 'vitest';
import { BucketAggregator } from './aggregator.ts';
import { anonymize } from './anonymize.ts';
import { DEFAULT_ANONYMIZER_SETTINGS, NOISELESS_SETTINGS } from './settings.ts';
import { SUPPRESSION_LABEL, SUPPRESSION_VALUE, type UserMembership } from './suppression-bucket.ts';
import { testSecret, users } from './test-support.ts';

const secret = testSecret('suppression');
const EXACT = { ...NOISELESS_SETTINGS, minRoundingStep: 1 };

/**
 * `shown` users report ("city", "Berlin") and a rare ("id", i) each; `hidden` users report only
 * their rare ("id", i); `failing` users only an exception. Returns the aggregate and memberships.
 */
function population(shown: number, hidden: number, failing = 0) {
  const keys = users(secret, shown + hidden + failing);
  const agg = new BucketAggregator();
  const memberships: UserMembership[] = [];
  keys.forEach((key, i) => {
    if (i >= shown + hidden) {
      agg.addException('boom', key);
      return;
    }
    const properties: Array<[string, string]> = [['id', String(i)]];
    if (i < shown) properties.push(['city', 'Berlin']);
    for (const [label, value] of properties) agg.addProperty(label, value, key);
    memberships.push({ key, properties });
  });
  return { agg, memberships };
}

const star = (result: ReturnType<typeof anonymize>) =>
  result.buckets.find((b) => b.label === SUPPRESSION_LABEL && b.value === SUPPRESSION_VALUE);

describe('suppression bucket', () => {
  it('counts the users none of whose properties is published, not the others', () => {
    const { agg, memberships } = population(20, 30, 5);
    const result = anonymize(agg, secret, EXACT, { memberships });
    expect(star(result)).toEqual({ label: '*', value: '*', count: 30 });
    expect(result.buckets.find((b) => b.label === 'city')?.count).toBe(20);
    expect(result.buckets.filter((b) => b.label === 'id')).toEqual([]);
  });

  it('is itself suppressed at or below the floor', () => {
    for (const hidden of [1, 2]) {
      const { agg, memberships } = population(20, hidden);
      expect(star(anonymize(agg, secret, EXACT, { memberships }))).toBeUndefined();
    }
    const { agg, memberships } = population(20, 3);
    expect(star(anonymize(agg, secret, EXACT, { memberships }))?.count).toBe(3);
    const floor5 = { ...EXACT, absoluteFloor: 5 };
    expect(star(anonymize(agg, secret, floor5, { memberships }))).toBeUndefined();
  });

  it('gets sticky noise and rounding like any bucket, and is absent without memberships', () => {
    const { agg, memberships } = population(100, 300);
    const once = star(anonymize(agg, secret, DEFAULT_ANONYMIZER_SETTINGS, { memberships }));
    const again = star(anonymize(agg, secret, DEFAULT_ANONYMIZER_SETTINGS, { memberships }));
    expect(again).toEqual(once);
    expect(once!.count % 5).toBe(0);
    expect(Math.abs(once!.count - 300)).toBeLessThanOrEqual(35);
    expect(star(anonymize(agg, secret, DEFAULT_ANONYMIZER_SETTINGS))).toBeUndefined();
  });

  it('leaves out users who reported nothing, and users with only exceptions', () => {
    const { agg, memberships } = population(10, 0, 40);
    const none = users(secret, 20, 'quiet').map((key) => ({ key, properties: [] }));
    const result = anonymize(agg, secret, EXACT, { memberships: [...memberships, ...none] });
    expect(star(result)).toBeUndefined();
    expect(result.exceptions).toEqual([{ error: 'boom', count: 40 }]);
  });
});
