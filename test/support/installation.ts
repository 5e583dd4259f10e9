// Starts a real installation in a temporary directory on free ports, with helpers to issue keys.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pinNoiseSecret } from '../../src/cloak/noise-secret-test-support.ts';
import { buildConfig, type ConfigInput } from '../../src/config/index.ts';
import { startPlatform, type RunningPlatform } from '../../src/platform/index.ts';
import type { KeyType } from '../../src/shared/index.ts';
import { request, type RequestOptions, type TestKey } from './https-client.ts';

export const KEY_PASSWORD = 'test-password';

export interface TestInstallation {
  platform: RunningPlatform;
  dataDir: string;
  ca: string;
  createOrg(name: string): Promise<string>;
  issueKey(
    orgId: string,
    type: KeyType,
    userId?: string,
  ): Promise<TestKey & { id: string; pem: string }>;
  web(pathAndQuery: string, options?: RequestOptions): ReturnType<typeof request>;
  cloak(pathAndQuery: string, options?: RequestOptions): ReturnType<typeof request>;
  stop(): Promise<void>;
}

/** Every test installation's noise secret, 32 such bytes (a real installation draws its own). */
const TEST_NOISE_SECRET_BYTE = 0x5e;

export async function startTestInstallation(
  overrides: ConfigInput = {},
  /** Another fixed noise secret (32 bytes): the attack lab measures under several. */
  noiseSecret?: Uint8Array,
): Promise<TestInstallation> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-test-'));
  // A fixed noise secret: every test then publishes the same noisy counts on every run, so that a
  // bucket near the threshold is published or not for good, never one run in a few hundred.
  pinNoiseSecret(dataDir, noiseSecret ?? TEST_NOISE_SECRET_BYTE);
  const config = buildConfig({
    ...overrides,
    dataDir,
    web: { port: 0, ...(overrides.web ?? {}) },
    cloak: { port: 0, ...(overrides.cloak ?? {}) },
  });
  const platform = await startPlatform(config);
  const ca = platform.pki.ca.certPem;
  return {
    platform,
    dataDir,
    ca,
    createOrg: async (name) => (await platform.air.organisations.create(name)).id,
    async issueKey(orgId, type, userId) {
      const issued = await platform.keys.create(orgId, {
        type,
        description: `test ${type}`,
        password: KEY_PASSWORD,
        ...(userId !== undefined ? { userId } : {}),
      });
      return { id: issued.record.id, pfx: issued.pfx, passphrase: KEY_PASSWORD, pem: issued.pem };
    },
    web: (p, options) => request(`${platform.webUrl}${p}`, ca, options),
    cloak: (p, options) => request(`${platform.cloakUrl}${p}`, ca, options),
    async stop() {
      await platform.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
