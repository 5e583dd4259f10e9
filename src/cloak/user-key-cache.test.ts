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
});
