// The key cache hands out exactly userKey's keys, stays bounded, and never rewrites a key in use.
import { describe, expect, it } from 'vitest';
import { userKey } from '../anonymizer/index.ts';
import { UserKeyCache } from './user-key-cache.ts';

const SECRET = new Uint8Array(32).fill(7);

describe('UserKeyCache', () => {
  it('gives the same bytes as userKey, aligned, and the same object for a known user', () => {
    const cache = new UserKeyCache(SECRET);
    for (let u = 0; u < 5000; u++) {
      const key = cache.of(`user-${u}`);
      expect(Buffer.from(key).equals(Buffer.from(userKey(SECRET, `user-${u}`)))).toBe(true);
      expect(key.byteOffset % 4).toBe(0);
      expect(key.length).toBe(32);
    }
    expect(cache.of('user-17')).toBe(cache.of('user-17'));
    const other = new UserKeyCache(new Uint8Array(32).fill(8));
    expect(Buffer.from(other.of('user-17')).equals(Buffer.from(cache.of('user-17')))).toBe(false);
  });

  it('starts over past its bound without changing a key handed out before', () => {
    const cache = new UserKeyCache(SECRET, 100);
    const first = cache.of('user-0');
    const copy = Buffer.from(first);
    for (let u = 1; u < 1000; u++) cache.of(`user-${u}`);
    expect(cache.size).toBeLessThanOrEqual(100);
    expect(Buffer.from(first).equals(copy)).toBe(true);
    // Forgotten, so computed again: equal bytes, a new array.
    const again = cache.of('user-0');
    expect(again).not.toBe(first);
    expect(Buffer.from(again).equals(copy)).toBe(true);
  });

  it('gives each user their own key whatever the order, also when orders change between runs', () => {
    const cache = new UserKeyCache(SECRET, 150);
    const ids = Array.from({ length: 200 }, (_, u) => `user-${u}`);
    const expected = new Map(ids.map((id) => [id, Buffer.from(userKey(SECRET, id))]));
    const check = (order: string[]) => {
      for (const id of order)
        expect(Buffer.from(cache.of(id)).equals(expected.get(id)!)).toBe(true);
    };
    check(ids); // first run: computed
    check(ids); // the same order again: followed
    check([...ids].reverse()); // another order
    check(ids.filter((_, i) => i % 3 !== 0)); // some users left out
    // Two runs interleaved, and a user asked twice in a row.
    check(ids.flatMap((id, i) => [id, ids[ids.length - 1 - i]!, id]));
    // Past the bound (150) the cache starts over, also in the middle of an order it follows.
    check(
      Array.from({ length: 500 }, (_, u) => `user-${u % 250}`).map((id) => {
        if (!expected.has(id)) expected.set(id, Buffer.from(userKey(SECRET, id)));
        return id;
      }),
    );
    check(ids);
    expect(cache.size).toBeLessThanOrEqual(150);
  });
});
