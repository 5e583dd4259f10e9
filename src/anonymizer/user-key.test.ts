import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { userKey, userKeys } from './user-key.ts';

/** Ids across SHA-256's block edges (55/56 and 119/120 bytes with "user:"), and wide UTF-8. */
function ids(): string[] {
  const out = ['', 'a', 'user-1', 'é', '日本', '😀x', 'tab\there', '\u0000', '\ud800 lone'];
  for (let n = 40; n <= 130; n++) out.push('x'.repeat(n), 'é'.repeat(n >> 1), '😀'.repeat(n >> 2));
  for (let i = 0; i < 300; i++) out.push(randomBytes(1 + (i % 90)).toString('latin1'));
  out.push('u'.repeat(5000));
  return out;
}

describe('user keys', () => {
  it('are HMAC-SHA256(secret, "user:" + id), 32 fresh, aligned bytes', () => {
    const secret = randomBytes(32);
    const key = userKey(secret, 'alice');
    const expected = createHmac('sha256', secret).update('user:alice', 'utf8').digest();
    expect(Buffer.from(key).equals(expected)).toBe(true);
    expect(key.byteOffset % 4).toBe(0);
  });

  it('are the same bit for bit from userKeys, for secrets of any length and any ids', () => {
    for (const length of [1, 16, 32, 55, 63, 64, 65, 100, 200]) {
      const secret = randomBytes(length);
      const keyOf = userKeys(secret);
      for (const id of ids()) {
        const fast = keyOf(id);
        expect(fast).toBeInstanceOf(Uint8Array);
        expect(fast.length).toBe(32);
        expect(Buffer.from(fast).toString('hex'), `${length}: ${JSON.stringify(id)}`).toBe(
          Buffer.from(userKey(secret, id)).toString('hex'),
        );
      }
    }
  });

  it('gives each call its own array', () => {
    const keyOf = userKeys(randomBytes(32));
    const a = keyOf('same');
    const b = keyOf('same');
    expect(a).not.toBe(b);
    expect(a).toEqual(b);
  });

  it('refuses an empty secret', () => {
    expect(() => userKeys(new Uint8Array())).toThrow('must not be empty');
  });
});
