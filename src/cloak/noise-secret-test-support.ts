// Test and benchmark support: a fixed noise secret, so that a run publishes the same noisy counts every time.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { noiseSecretPath } from './noise-secret.ts';

/**
 * Writes a secret of 32 bytes `byte` where the cloak of `dataDir` will read it, before the cloak
 * first opens (it would otherwise draw a random one). Never for an installation: anyone who knows
 * the secret can predict its noise.
 */
export function pinNoiseSecret(dataDir: string, byte: number): void {
  const file = noiseSecretPath(dataDir);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, new Uint8Array(32).fill(byte), { mode: 0o600 });
}
