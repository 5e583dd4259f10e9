// The per-installation secret that keys every noise draw; created once, kept beside the cloak data.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors/index.ts';

const SECRET_BYTES = 32;

/** Where the secret lives in a data directory (backups copy it, restores put it back). */
export function noiseSecretPath(dataDir: string): string {
  return path.join(dataDir, 'secrets', 'noise.key');
}

/**
 * Losing this file changes every future noise draw (and so lets an analyst compare old and new
 * answers), so it is created once, for a data directory without data, and never silently again:
 * `findData` says what data the directory holds (undefined for a fresh one; asked only when the
 * secret is missing), and with data but no secret the installation refuses to open.
 */
export function loadOrCreateNoiseSecret(
  dataDir: string,
  findData: () => string | undefined,
): Uint8Array {
  const file = noiseSecretPath(dataDir);
  if (existsSync(file)) {
    const secret = readFileSync(file);
    if (secret.length !== SECRET_BYTES) {
      throw new Error(
        `${file} is damaged: expected ${SECRET_BYTES} bytes, found ${secret.length}.`,
      );
    }
    return new Uint8Array(secret);
  }
  const found = findData();
  if (found !== undefined) throw new AppError('NOISE_SECRET_MISSING', { found, file });
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(SECRET_BYTES);
  writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  return new Uint8Array(secret);
}
