// Web API authentication: no key, foreign keys, wrong key types, revoked keys and other organisations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertificateAuthority,
  issueClientCertificate,
  toPkcs12,
} from '../../src/pki/index.ts';
import { KEY_TYPES } from '../../src/shared/index.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import { refusal, type TestKey } from '../support/https-client.ts';

describe('web REST API authentication', () => {
  let inst: TestInstallation;
  let orgA: string;
  let orgB: string;
  let keyA: TestKey;
  let keyB: TestKey;
  let taskA: { id: number; token: string };

  beforeAll(async () => {
    inst = await startTestInstallation();
    orgA = await inst.createOrg('Org A');
    orgB = await inst.createOrg('Org B');
    keyA = await inst.issueKey(orgA, 'web_api');
    keyB = await inst.issueKey(orgB, 'web_api');
    taskA = await inst.platform.air.tasks.create(orgA, {
      name: 'secret task',
      type: 'batch',
      code: '',
      prefetch: [],
    });
  });
  afterAll(() => inst.stop());

  it('answers 401 with a JSON error when no certificate is sent', async () => {
    const { status, json } = await inst.web('/api/tasks');
    expect(status).toBe(401);
    expect(json).toEqual({ success: false, error: expect.stringContaining('web_api') });
  });

  it('closes the connection of a certificate from a foreign CA that copies a real subject', async () => {
    const foreignCa = createCertificateAuthority({ commonName: 'Mallory CA', validDays: 30 });
    const real = (await inst.platform.air.keys.list(orgA))[0]!;
    const forged = issueClientCertificate(
      foreignCa,
      { orgId: orgA, keyType: 'web_api', keyId: real.id },
      { validDays: 30 },
    );
    const pfx = toPkcs12(
      { certPem: forged.certPem, keyPem: forged.keyPem, caCertPem: foreignCa.certPem },
      'pass',
    );
    const outcome = await refusal(inst.web('/api/tasks', { key: { pfx, passphrase: 'pass' } }));
    expect(outcome).toEqual({ tls: true });
  });

  it.each(KEY_TYPES.filter((t) => t !== 'web_api'))(
    'refuses a %s key and says a web_api key is needed',
    async (type) => {
      const key = await inst.issueKey(orgA, type, type === 'upload_user' ? 'user-1' : undefined);
      const { status, json } = await inst.web(`/api/task_results/${taskA.id}`, { key });
      expect(status).toBe(401);
      expect(json.error).toContain('needs a web_api key');
      expect(json.error).toContain(type);
    },
  );

  it('refuses a revoked key at once: 401 until the CRL is re-signed, then at the handshake', async () => {
    const key = (await inst.issueKey(orgA, 'web_api')) as TestKey & { id: string };
    expect((await inst.web('/api/tasks', { key })).status).toBe(200);
    expect(await inst.platform.air.keys.revoke(orgA, key.id)).toBe(true);
    const outcome = await refusal(inst.web('/api/tasks', { key }));
    if (!outcome.tls) {
      expect(outcome.status).toBe(401);
      expect(outcome.json.error).toMatch(/revoked/);
    }
  });

  it("makes another organisation's task indistinguishable from a missing one", async () => {
    const foreignById = await inst.web(`/api/task_results/${taskA.id}`, { key: keyB });
    const missingById = await inst.web('/api/task_results/999999', { key: keyB });
    expect(foreignById.status).toBe(404);
    expect(missingById.status).toBe(404);
    expect(foreignById.json.error.replace(String(taskA.id), 'X')).toBe(
      missingById.json.error.replace('999999', 'X'),
    );

    for (const path of [`/api/tasks/${taskA.token}/results`, `/api/tasks/${taskA.token}/run`]) {
      const method = path.endsWith('/run') ? 'POST' : 'GET';
      const foreign = await inst.web(path, { key: keyB, method });
      const missing = await inst.web(path.replace(taskA.token, 'qqqqqqqqqqqq'), {
        key: keyB,
        method,
      });
      expect(foreign.status).toBe(404);
      expect(foreign.json.error.replace(taskA.token, 'X')).toBe(
        missing.json.error.replace('qqqqqqqqqqqq', 'X'),
      );
    }
    const listB = await inst.web('/api/tasks', { key: keyB });
    expect(listB.json.tasks).toEqual([]);
    const listA = await inst.web('/api/tasks', { key: keyA });
    expect(listA.json.tasks.map((t: { name: string }) => t.name)).toEqual(['secret task']);
  });

  it('answers unknown routes with a 404 JSON error, and never leaks a stack trace', async () => {
    const { status, json, text } = await inst.web('/api/nothing-here', { key: keyA });
    expect(status).toBe(404);
    expect(json).toEqual({ success: false, error: expect.stringContaining('/api/nothing-here') });
    expect(text).not.toMatch(/at .*\.ts:\d+/);
  });
});
