// Every endpoint x every key type (and revoked, expired, foreign-CA and missing keys): who gets in.
// Which person may mint which key type is key-roles.test.ts, beside this file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertificateAuthority,
  issueClientCertificate,
  toPkcs12,
} from '../../src/pki/index.ts';
import { KEY_TYPES, type KeyType } from '../../src/shared/index.ts';
import { endpoints, orgWithTask, type Endpoint } from '../support/endpoints.ts';
import { refusal, type TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

describe('access matrix', () => {
  let inst: TestInstallation;
  let orgId: string;
  let task: string;
  const keys = {} as Record<KeyType, TestKey>;
  const revoked = {} as Record<KeyType, TestKey>;
  const expired = {} as Record<KeyType, TestKey>;
  let foreign: TestKey;

  beforeAll(async () => {
    inst = await startTestInstallation();
    ({ orgId, task } = await orgWithTask(inst, 'Matrix'));
    for (const type of KEY_TYPES) {
      const user = type === 'upload_user' ? 'u1' : undefined;
      keys[type] = await inst.issueKey(orgId, type, user);
      const r = (await inst.issueKey(orgId, type, user)) as TestKey & { id: string };
      await inst.platform.air.keys.revoke(orgId, r.id);
      revoked[type] = r;
      const e = (await inst.issueKey(orgId, type, user)) as TestKey & { id: string };
      await inst.platform.air.db.run('UPDATE api_keys SET expires_at = ? WHERE id = ?', [
        Date.now() - 1000,
        e.id,
      ]);
      expired[type] = e;
    }
    const mallory = createCertificateAuthority({ commonName: 'Mallory', validDays: 30 });
    const real = (await inst.platform.air.keys.list(orgId))[0]!;
    const forged = issueClientCertificate(
      mallory,
      {
        orgId,
        keyType: real.type,
        keyId: real.id,
        ...(real.userId ? { userId: real.userId } : {}),
      },
      { validDays: 30 },
    );
    foreign = {
      pfx: toPkcs12(
        { certPem: forged.certPem, keyPem: forged.keyPem, caCertPem: mallory.certPem },
        'pass',
      ),
      passphrase: 'pass',
    };
  });
  afterAll(() => inst.stop());

  const call = (e: Endpoint, key?: TestKey) =>
    inst[e.api](e.path, {
      method: e.method,
      ...(e.body !== undefined ? { body: e.body } : {}),
      ...(key ? { key } : {}),
    });

  it('lets each endpoint be called with exactly its own key type', async () => {
    const table: string[] = [];
    for (const e of endpoints(task)) {
      for (const type of KEY_TYPES) {
        const { status, json } = await call(e, keys[type]);
        const cell = `${e.method} ${e.path} with ${type}: ${status}`;
        table.push(cell);
        if (type === e.allowed) {
          expect(status, cell).not.toBe(401);
          expect(status, cell).toBeLessThan(500);
        } else {
          expect(status, cell).toBe(401);
          // Every key type starts with its sound's letter: an upload_any, a web_api.
          const article = /^[aeiou]/.test(e.allowed) ? 'an' : 'a';
          expect(json.error, cell).toContain(`needs ${article} ${e.allowed} key`);
        }
      }
    }
    expect(table).toHaveLength(endpoints(task).length * KEY_TYPES.length);
  });

  it('refuses revoked, expired and missing keys on every endpoint, with 401 JSON or at TLS', async () => {
    for (const e of endpoints(task)) {
      for (const [what, key] of [
        ['revoked', revoked[e.allowed]],
        ['expired', expired[e.allowed]],
        ['no key', undefined],
      ] as const) {
        const cell = `${e.method} ${e.path} with ${what}`;
        const outcome = await refusal(call(e, key));
        // Only a key on the CRL may be refused at the handshake; the others need their 401 JSON.
        if (outcome.tls) expect(what, cell).toBe('revoked');
        else {
          expect(outcome.status, cell).toBe(401);
          expect(outcome.json.success, cell).toBe(false);
        }
      }
    }
  });

  it('closes connections with a foreign-CA certificate on every endpoint at the handshake', async () => {
    for (const e of endpoints(task)) {
      expect(await refusal(call(e, foreign)), `${e.method} ${e.path}`).toEqual({ tls: true });
    }
  });
});
