// identityFromPeerCertificate on the shapes Node's getPeerCertificate() can produce, valid and not.
import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { identityFromPeerCertificate } from './index.ts';

function peer(subject: Record<string, unknown>, serialNumber: unknown = '00AB12'): PeerCertificate {
  return { subject, serialNumber } as unknown as PeerCertificate;
}

describe('identityFromPeerCertificate', () => {
  it('reads O, OU, CN (and UID for upload_user) and normalizes the serial', () => {
    expect(identityFromPeerCertificate(peer({ O: 'org', OU: 'web_api', CN: 'k1' }))).toEqual({
      orgId: 'org',
      keyType: 'web_api',
      keyId: 'k1',
      serial: 'ab12',
    });
    expect(
      identityFromPeerCertificate(
        peer({ O: 'org', OU: 'upload_user', CN: 'k1', UID: 'ü,=' }, '0F'),
      ),
    ).toEqual({ orgId: 'org', keyType: 'upload_user', keyId: 'k1', userId: 'ü,=', serial: 'f' });
  });

  it.each<[string, PeerCertificate]>([
    ['no certificate (Node gives {})', {} as PeerCertificate],
    ['unknown OU', peer({ O: 'o', OU: 'root', CN: 'k' })],
    ['missing O', peer({ OU: 'admin', CN: 'k' })],
    ['missing CN', peer({ O: 'o', OU: 'admin' })],
    ['empty O', peer({ O: '', OU: 'admin', CN: 'k' })],
    ['upload_user without UID', peer({ O: 'o', OU: 'upload_user', CN: 'k' })],
    ['upload_user with empty UID', peer({ O: 'o', OU: 'upload_user', CN: 'k', UID: '' })],
    ['another type with UID', peer({ O: 'o', OU: 'upload_any', CN: 'k', UID: 'u' })],
    ['a repeated attribute (array)', peer({ O: 'o', OU: 'admin', CN: ['k', 'j'] })],
    ['an unexpected attribute', peer({ O: 'o', OU: 'admin', CN: 'k', C: 'DE' })],
    ['no serial', { subject: { O: 'o', OU: 'admin', CN: 'k' } } as unknown as PeerCertificate],
    ['a non-hex serial', peer({ O: 'o', OU: 'admin', CN: 'k' }, 'xyz')],
    ['a zero serial', peer({ O: 'o', OU: 'admin', CN: 'k' }, '00')],
  ])('returns undefined for %s', (_what, cert) => {
    expect(identityFromPeerCertificate(cert)).toBeUndefined();
  });
});
