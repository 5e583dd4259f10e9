// The order in which a step writes its users' pages: by user hash, whatever the keys share.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { byHash } from './budget-account.ts';
import { compareHashes } from './budget-pages.ts';

/** The order a plain comparator sort gives: what byHash must give too. */
function expected(keys: Uint8Array[]): number[] {
  return keys.map((_, i) => i).sort((a, b) => compareHashes(keys[a]!, keys[b]!));
}

describe('byHash', () => {
  it('orders random keys as a comparator over the whole hash does', () => {
    const keys = Array.from({ length: 5000 }, () => new Uint8Array(randomBytes(32)));
    expect([...byHash(keys)]).toEqual(expected(keys));
  });

  it('orders keys whose first 32 bits are equal by the rest of the hash', () => {
    // Groups that share their first four bytes and differ further on, down to the 16th byte.
    const keys = Array.from({ length: 600 }, (_, i) => {
      const key = new Uint8Array(randomBytes(32));
      key.set([0x80, 0, 0, i % 7], 0);
      if (i % 3 === 0) key.fill(0x11, 4, 15);
      return key;
    });
    const order = [...byHash(keys)];
    expect(order).toEqual(expected(keys));
    expect(new Set(order).size).toBe(keys.length);
  });

  it('keeps every index once for keys that are equal in their whole hash', () => {
    const same = new Uint8Array(randomBytes(32));
    const keys = [new Uint8Array(randomBytes(32)), same, same.slice(), new Uint8Array(32)];
    const order = [...byHash(keys)];
    expect(order.sort()).toEqual([0, 1, 2, 3]);
    expect(byHash([]).length).toBe(0);
  });
});
