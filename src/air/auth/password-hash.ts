// Password hashing with scrypt (memory-hard, in Node's crypto, on the libuv pool): hash, verify, the stored format.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** 2^15 x 8 x 128 bytes = 32 MiB per hash: costly to brute-force, ~50 ms of one core to check. */
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const MAX_MEMORY = 64 * 1024 * 1024;

export const MIN_LOGIN_PASSWORD_LENGTH = 10;

/** Async scrypt: the work runs on a libuv pool thread, never on the event loop. */
function scryptAsync(
  password: string,
  salt: Buffer,
  length: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, length, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

function format(cost: { N: number; r: number; p: number }, salt: Buffer, hash: Buffer): string {
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), hash.toString('base64')].join(
    '$',
  );
}

/** Stored as `scrypt$N$r$p$<salt b64>$<hash b64>` so the cost can rise later without a migration. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(password, salt, KEY_BYTES, { ...COST, maxmem: MAX_MEMORY });
  return format(COST, salt, hash);
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEMORY,
  });
  return timingSafeEqual(actual, expected);
}

/**
 * Checking against this costs what a real check costs, and it matches no password (its "hash" is
 * random bytes, not the scrypt of anything): unknown e-mails take as long as known ones. Built
 * without hashing, so importing this module blocks nothing.
 */
export const DUMMY_HASH = format(COST, randomBytes(SALT_BYTES), randomBytes(KEY_BYTES));
