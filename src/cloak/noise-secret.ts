// The per-installation secret that keys every noise draw; created once, kept beside the cloak data.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const SECRET_BYTES = 32;

/**
 * Losing this file changes every future noise draw (and so lets an analyst compare old and new
 * answers), so it is created once and never rotated silently.
 */
export function loadOrCreateNoiseSecret(dataDir: string): Uint8Array {
  const dir = path.join(dataDir, 'secrets');
  const file = path.join(dir, 'noise.key');
  if (existsSync(file)) {
    const secret = readFileSync(file);
    if (secret.length !== SECRET_BYTES) {
      throw new Error(
        `${file} is damaged: expected ${SECRET_BYTES} bytes, found ${secret.length}.`,
      );
    }
    return new Uint8Array(secret);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(SECRET_BYTES);
  writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  return new Uint8Array(secret);
}
