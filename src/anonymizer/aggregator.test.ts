// The partial aggregate: distinct-user counts and fingerprints, merge, and the wire form for workers.
import { describe, expect, it } from 'vitest';
import { BucketAggregator, type AggregatedBucket } from './aggregator.ts';
import { testSecret, users } from './test-support.ts';
import { userKey } from './user-key.ts';

const secret = testSecret('aggregator');
const keys = users(secret, 40);

function snapshot(agg: BucketAggregator): Record<string, { count: number; fingerprint: string }> {
  const out: Record<string, { count: number; fingerprint: string }> = {};
  for (const b of agg.buckets()) out[describeBucket(b)] = summary(b);
  return out;
}
const describeBucket = ({ identity: id }: AggregatedBucket) =>
  id.kind === 'property' ? `p:${id.label}=${id.value}` : `e:${id.message}`;
const summary = (b: AggregatedBucket) => ({
  count: b.count,
  fingerprint: Buffer.from(b.fingerprint).toString('hex'),
});
const xorHex = (...ks: Uint8Array[]) => {
  const out = new Uint8Array(32);
  for (const k of ks) for (let i = 0; i < 32; i++) out[i] = out[i]! ^ k[i]!;
  return Buffer.from(out).toString('hex');
};

/** Adds user i to a few buckets that depend on i, and an exception for every fifth user. */
function feed(agg: BucketAggregator, from: number, to: number): BucketAggregator {
  for (let i = from; i < to; i++) {
    agg.addProperty('parity', String(i % 2), keys[i]!);
    agg.addProperty('decade', String(Math.floor(i / 10)), keys[i]!);
    if (i % 5 === 0) agg.addException('boom', keys[i]!);
  }
  return agg;
}

describe('user keys', () => {
  it('are 32 sticky bytes per (secret, user id)', () => {
    expect(userKey(secret, 'alice')).toHaveLength(32);
    expect(userKey(secret, 'alice')).toEqual(userKey(secret, 'alice'));
    expect(userKey(secret, 'alice')).not.toEqual(userKey(secret, 'bob'));
    expect(userKey(testSecret('other'), 'alice')).not.toEqual(userKey(secret, 'alice'));
  });
});

describe('BucketAggregator', () => {
  it('counts users per (label, value) and per exception, with the XOR of their keys', () => {
    const agg = new BucketAggregator();
    agg.addProperty('a', 'x', keys[0]!);
    agg.addProperty('a', 'x', keys[1]!);
    agg.addProperty('a', 'y', keys[1]!);
    agg.addException('x', keys[2]!);
    expect(snapshot(agg)).toEqual({
      'p:a=x': { count: 2, fingerprint: xorHex(keys[0]!, keys[1]!) },
      'p:a=y': { count: 1, fingerprint: xorHex(keys[1]!) },
      'e:x': { count: 1, fingerprint: xorHex(keys[2]!) },
    });
    expect(agg.size).toBe(3);
  });

  it('keeps a property and an exception with the same text apart', () => {
    const agg = new BucketAggregator();
    agg.addProperty('boom', '', keys[0]!);
    agg.addException('boom', keys[1]!);
    expect(Object.keys(snapshot(agg)).sort()).toEqual(['e:boom', 'p:boom=']);
  });

  it('does not confuse labels and values that concatenate alike', () => {
    const agg = new BucketAggregator();
    agg.addProperty('a\u0000b', 'c', keys[0]!);
    agg.addProperty('a', 'b\u0000c', keys[1]!);
    expect(agg.size).toBe(2);
  });

  it('gives equal fingerprints for equal user sets in any order', () => {
    const a = new BucketAggregator();
    const b = new BucketAggregator();
    for (const k of keys.slice(0, 10)) a.addProperty('l', 'v', k);
    for (const k of keys.slice(0, 10).reverse()) b.addProperty('l', 'v', k);
    expect(snapshot(a)).toEqual(snapshot(b));
  });

  it('accepts keys at any byte offset, and refuses keys of the wrong length', () => {
    const agg = new BucketAggregator();
    const shifted = new Uint8Array(33);
    shifted.set(keys[0]!, 1);
    agg.addProperty('l', 'v', shifted.subarray(1));
    expect(snapshot(agg)['p:l=v']!.fingerprint).toBe(xorHex(keys[0]!));
    expect(() => agg.addProperty('l', 'v', new Uint8Array(16))).toThrow(/32 bytes/);
  });

  it('sees a key reused with new contents as the new user', () => {
    const agg = new BucketAggregator();
    const reused = new Uint8Array(keys[0]!);
    agg.addProperty('l', 'a', reused);
    reused.set(keys[1]!);
    agg.addProperty('l', 'b', reused);
    expect(snapshot(agg)['p:l=b']!.fingerprint).toBe(xorHex(keys[1]!));
  });

  it('merges partials over disjoint users into what one aggregator builds', () => {
    const whole = feed(new BucketAggregator(), 0, 40);
    const parts = [
      [0, 7],
      [7, 23],
      [23, 40],
    ].map(([from, to]) => feed(new BucketAggregator(), from!, to!));
    const leftFirst = new BucketAggregator();
    for (const part of parts) leftFirst.merge(part);
    const rightFirst = new BucketAggregator();
    const tail = new BucketAggregator();
    tail.merge(parts[2]!);
    tail.merge(parts[1]!);
    rightFirst.merge(tail);
    rightFirst.merge(parts[0]!);
    expect(snapshot(leftFirst)).toEqual(snapshot(whole));
    expect(snapshot(rightFirst)).toEqual(snapshot(whole));
  });

  it('leaves the merged-in partial unchanged and refuses to merge into itself', () => {
    const part = feed(new BucketAggregator(), 0, 10);
    const before = snapshot(part);
    const target = feed(new BucketAggregator(), 10, 20);
    target.merge(part);
    target.addProperty('parity', '0', keys[30]!);
    expect(snapshot(part)).toEqual(before);
    expect(() => part.merge(part)).toThrow(/itself/);
  });

  it('round-trips through JSON, and the result merges like the original', () => {
    const part = feed(new BucketAggregator(), 0, 25);
    const copy = BucketAggregator.fromJSON(JSON.parse(JSON.stringify(part)));
    expect(snapshot(copy)).toEqual(snapshot(part));
    copy.merge(feed(new BucketAggregator(), 25, 40));
    expect(snapshot(copy)).toEqual(snapshot(feed(new BucketAggregator(), 0, 40)));
  });

  it('rejects anything that is not a serialized partial aggregate, saying what is wrong', () => {
    const good = JSON.parse(JSON.stringify(feed(new BucketAggregator(), 0, 5)));
    const fingerprint = good.properties[0][3];
    const cases: Array<[unknown, RegExp]> = [
      [null, /expected an object/],
      [{ ...good, format: 'v0' }, /"format"/],
      [{ ...good, properties: {} }, /"properties" must be a list/],
      [{ ...good, properties: [['l', 'v', 0, fingerprint]] }, /positive integer/],
      [{ ...good, properties: [['l', 'v', 1.5, fingerprint]] }, /positive integer/],
      [{ ...good, properties: [['l', 'v', 1, 'AAAA']] }, /32 bytes/],
      [{ ...good, properties: [['l', 1, 1, fingerprint]] }, /strings/],
      [
        {
          ...good,
          exceptions: [
            ['m', 1, fingerprint],
            ['m', 1, fingerprint],
          ],
        },
        /repeats/,
      ],
    ];
    for (const [input, message] of cases) {
      expect(() => BucketAggregator.fromJSON(input)).toThrow(message);
    }
  });

  it('counts a bucket counted elsewhere as if its users had been added one by one', () => {
    const oneByOne = feed(new BucketAggregator(), 0, 40);
    const counted = new BucketAggregator();
    // Each bucket of the first 40 users, handed over whole (count and fingerprint words).
    for (const bucket of oneByOne.buckets()) {
      const words = new Uint32Array(bucket.fingerprint.buffer.slice(0));
      counted.addCounted(bucket.identity, bucket.count, words);
    }
    expect(snapshot(counted)).toEqual(snapshot(oneByOne));
    // Into a bucket that has users already: the counts add up and the fingerprints XOR.
    const mixed = feed(new BucketAggregator(), 0, 20);
    for (const bucket of feed(new BucketAggregator(), 20, 40).buckets()) {
      mixed.addCounted(bucket.identity, bucket.count, new Uint32Array(bucket.fingerprint.buffer));
    }
    expect(snapshot(mixed)).toEqual(snapshot(oneByOne));
    expect(() =>
      counted.addCounted({ kind: 'exception', message: 'x' }, 1, new Uint32Array(4)),
    ).toThrow(/8 words/);
  });
});
