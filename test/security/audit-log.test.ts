// The audit log records key creation, revocation and failed authentications, and never a secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEY_PASSWORD,
  startTestInstallation,
  type TestInstallation,
} from '../support/installation.ts';

describe('audit log', () => {
  let inst: TestInstallation;
  beforeAll(async () => {
    inst = await startTestInstallation();
  });
  afterAll(() => inst.stop());

  it('records key creation and revocation, and refused requests with what the certificate claimed', async () => {
    const orgId = await inst.createOrg('Audited');
    const key = (await inst.issueKey(orgId, 'upload_any')) as {
      id: string;
      pfx: Buffer;
      passphrase: string;
    };
    await inst.web('/api/tasks', { key });
    await inst.web('/api/tasks');
    await inst.platform.keys.revoke(orgId, key.id);
    await inst.platform.refreshRevocations();
    // Refused at the handshake now: the CRL lists the key.
    await expect(inst.cloak('/bulk_insert', { key, body: {} })).rejects.toThrow();

    const entries = await inst.platform.air.audit.list();
    const events = entries.map((e) => `${e.event}:${e.detail.reason ?? e.detail.key ?? ''}`);
    expect(events).toEqual([
      'authentication.failed:TLS_CERT_REVOKED',
      `key.revoked:${key.id}`,
      'authentication.failed:CLIENT_CERTIFICATE_REQUIRED',
      'authentication.failed:WRONG_KEY_TYPE',
      `key.created:${key.id}`,
    ]);
    const wrongType = entries[3]!;
    expect(wrongType).toMatchObject({ orgId, actor: expect.stringMatching(/^certificate:/) });
    expect(wrongType.detail).toMatchObject({
      keyType: 'upload_any',
      method: 'GET',
      path: '/api/tasks',
    });
    expect(entries[0]).toMatchObject({ orgId, actor: expect.stringMatching(/^certificate:/) });
    expect(entries[0]!.detail).toMatchObject({ keyType: 'upload_any', path: '(handshake)' });
    expect(entries[2]).toMatchObject({ orgId: null, actor: 'anonymous' });
    // The anonymous failure belongs to no organisation, so an organisation's view leaves it out.
    const orgView = await inst.platform.air.audit.list(orgId);
    expect(orgView).toHaveLength(4);
    expect(orgView.some((e) => e.actor === 'anonymous')).toBe(false);

    // No secret in any entry: not the password, not key material.
    const everything = JSON.stringify(await inst.platform.air.audit.list());
    expect(everything).not.toContain(KEY_PASSWORD);
    expect(everything).not.toMatch(/BEGIN|PRIVATE|password/i);
  });

  it('drops secret-looking fields even when a caller passes them', async () => {
    await inst.platform.air.audit.record({
      orgId: null,
      event: 'login.failed',
      actor: 'anonymous',
      detail: { user: 'ada', password: 'hunter2', token: 't' },
    });
    const [entry] = await inst.platform.air.audit.list(undefined, 1);
    expect(entry!.detail).toEqual({ user: 'ada' });
  });
});
