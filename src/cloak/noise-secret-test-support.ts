// Test and benchmark support: a fixed noise secret, so that a run publishes the same noisy counts every time.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { noiseSecretPath } from './noise-secret.ts';

/**
 * Writes a secret of 32 bytes `byte` (or those 32 bytes) where the cloak of `dataDir` will read
 * it, before the cloak first opens (it would otherwise draw a random one). Never for an
 * installation: anyone who knows the secret can predict its noise.
 */
export function pinNoiseSecret(dataDir: string, byte: number | Uint8Array): void {
  const secret = typeof byte === 'number' ? new Uint8Array(32).fill(byte) : byte;
  if (secret.length !== 32) throw new RangeError('a noise secret is 32 bytes');
  const file = noiseSecretPath(dataDir);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, secret, { mode: 0o600 });
}
