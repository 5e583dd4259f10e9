// Per-user keys: a secret-keyed 32-byte pseudonym of a user id, the unit of the user-set fingerprint.
import { createHmac } from 'node:crypto';

/** A user's key: HMAC-SHA256(secret, "user:" + userId), 32 bytes. */
export type UserKey = Uint8Array;

export const USER_KEY_BYTES = 32;

/**
 * Keyed with the installation secret, so that nobody without it can tell which user ids lie
 * behind a fingerprint or predict the noise of a given set of users. The key is a fresh, 4-byte
 * aligned array, which lets the aggregator read it as 32-bit words without copying.
 */
export function userKey(secret: Uint8Array, userId: string): UserKey {
  if (secret.length === 0) throw new RangeError('the user-key secret must not be empty');
  const digest = createHmac('sha256', secret).update(`user:${userId}`, 'utf8').digest();
  const key = new Uint8Array(USER_KEY_BYTES);
  key.set(digest);
  return key;
}
