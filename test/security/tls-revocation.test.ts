// The TLS layer itself refuses revoked and foreign certificates (CRL kept fresh), also after a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/index.ts';
import {
  createCertificateAuthority,
  issueClientCertificate,
  toPkcs12,
} from '../../src/pki/index.ts';
import { startPlatform, type RunningPlatform } from '../../src/platform/index.ts';
import { refusal, request, type TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

/** Resolves to the HTTP status, or says that the TLS layer closed the connection. */
async function outcome(url: string, ca: string, key?: TestKey): Promise<number | string> {
  const seen = await refusal(request(url, ca, { fresh: true, ...(key ? { key } : {}) }));
  return seen.tls ? 'refused at the handshake' : seen.status;
}

const REFUSED = /^refused at the handshake$/;

/**
 * Polls until the outcome matches, for changes that another process makes (about a second on a
 * quiet machine). The 30 s are a guard against never, not a measurement: a busy machine delays
 * the re-signing timer.
 */
async function eventually(check: () => Promise<number | string>, expected: RegExp) {
  let last: number | string = '';
  for (const started = Date.now(); Date.now() - started < 30_000;) {
    last = await check();
    if (expected.test(String(last))) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

describe('TLS-layer revocation', () => {
  let inst: TestInstallation;
  let orgId: string;
  let url: string;
  beforeAll(async () => {
    inst = await startTestInstallation();
    orgId = await inst.createOrg('Revocations');
    url = `${inst.platform.webUrl}/api/tasks`;
  });
  afterAll(() => inst.stop());

  it('closes new connections of a key revoked through the key service at once', async () => {
    const key = await inst.issueKey(orgId, 'web_api');
    expect(await outcome(url, inst.ca, key)).toBe(200);
    await inst.platform.keys.revoke(orgId, key.id, 'test');
    expect(await eventually(() => outcome(url, inst.ca, key), REFUSED)).toMatch(REFUSED);
    const audit = await inst.platform.air.audit.list(orgId);
    expect(
      audit.some(
        (e) => e.event === 'authentication.failed' && /CERT_REVOKED/.test(JSON.stringify(e.detail)),
      ),
    ).toBe(true);
  });

  it('picks up a revocation made by another process (the CLI) by polling', async () => {
    const key = await inst.issueKey(orgId, 'web_api');
    expect(await outcome(url, inst.ca, key)).toBe(200);
    await inst.platform.air.keys.revoke(orgId, key.id);
    expect(await eventually(() => outcome(url, inst.ca, key), REFUSED)).toMatch(REFUSED);
  });

  it('closes connections with a certificate from a foreign CA, on both APIs', async () => {
    const mallory = createCertificateAuthority({ commonName: 'Mallory', validDays: 30 });
    const forged = issueClientCertificate(
      mallory,
      { orgId, keyType: 'web_api', keyId: 'forged' },
      { validDays: 30 },
    );
    const foreign = {
      pfx: toPkcs12({ ...forged, caCertPem: mallory.certPem }, 'pass'),
      passphrase: 'pass',
    };
    expect(await outcome(url, inst.ca, foreign)).toMatch(REFUSED);
    expect(await outcome(`${inst.platform.cloakUrl}/tables`, inst.ca, foreign)).toMatch(REFUSED);
  });

  it('still answers clients without a certificate with a JSON 401, and keeps other keys working', async () => {
    const other = await inst.issueKey(orgId, 'web_api');
    const bare = await request(url, inst.ca);
    expect(bare.status).toBe(401);
    expect(bare.json.error).toMatch(/web_api/);
    expect(await outcome(url, inst.ca, other)).toBe(200);
  });

  it('keeps refusing a revoked key after a restart on the same data directory', async () => {
    const key = await inst.issueKey(orgId, 'web_api');
    await inst.platform.keys.revoke(orgId, key.id, 'test');
    // One server per data directory: the first must stop before the restart.
    await inst.platform.stop();
    let restarted: RunningPlatform | undefined;
    try {
      restarted = await startPlatform(
        buildConfig({ dataDir: inst.dataDir, web: { port: 0 }, cloak: { port: 0 } }),
      );
      const ca = restarted.pki.ca.certPem;
      expect(await outcome(`${restarted.webUrl}/api/tasks`, ca, key)).toMatch(REFUSED);
    } finally {
      await restarted?.stop();
    }
  });
});
