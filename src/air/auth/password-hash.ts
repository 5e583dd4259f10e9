// Password hashing with scrypt (memory-hard, in Node's crypto): hash, verify, and the stored format.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** 2^15 x 8 x 128 bytes = 32 MiB per hash: costly to brute-force, ~50 ms to check here. */
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const MAX_MEMORY = 64 * 1024 * 1024;

export const MIN_LOGIN_PASSWORD_LENGTH = 10;

/** Stored as `scrypt$N$r$p$<salt b64>$<hash b64>` so the cost can rise later without a migration. */
export function hashPassword(password: string): string {
  const salt = randomBytes(SALT_BYTES);
  const hash = scryptSync(password.normalize('NFC'), salt, KEY_BYTES, {
    ...COST,
    maxmem: MAX_MEMORY,
  });
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), hash.toString('base64')].join(
    '$',
  );
}

export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = scryptSync(
    password.normalize('NFC'),
    Buffer.from(salt, 'base64'),
    expected.length,
    {
      N: Number(n),
      r: Number(r),
      p: Number(p),
      maxmem: MAX_MEMORY,
    },
  );
  return timingSafeEqual(actual, expected);
}

/** A hash of a random password: checking against it costs what a real check costs. */
export const DUMMY_HASH = hashPassword(randomBytes(16).toString('hex'));
