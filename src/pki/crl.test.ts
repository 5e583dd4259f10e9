import 'reflect-metadata';
import { X509Crl } from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority } from './ca.ts';
import { createCrl } from './crl.ts';

describe('createCrl', () => {
  const ca = createCertificateAuthority({ commonName: 'CRL test CA', validDays: 3 });
  const validity = { thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000) };

  it('lists each serial as the positive integer the certificate carries, high bit or not', async () => {
    const serials = ['8abc', 'fff', '1234567890abcdef'];
    const pem = await createCrl(
      ca,
      serials.map((serial) => ({ serial, revokedAt: new Date() })),
      validity,
    );
    expect(pem).toMatch(/^-----BEGIN X509 CRL-----/);
    const crl = new X509Crl(pem.replace(/X509 CRL/g, 'CRL'));
    const listed = crl.entries.map((e) => e.serialNumber.toLowerCase().replace(/^0+/, ''));
    expect(listed).toEqual(serials);
    // DER INTEGERs are signed: a first byte of 0x8a must be preceded by 0x00 to stay positive.
    const der = Buffer.from(crl.rawData).toString('hex');
    expect(der).toContain('0203008abc');
  });

  it('is signed by the CA and says when it must be replaced', async () => {
    const pem = await createCrl(ca, [], validity);
    const crl = new X509Crl(pem.replace(/X509 CRL/g, 'CRL'));
    expect(crl.nextUpdate?.getTime()).toBe(Math.floor(validity.nextUpdate.getTime() / 1000) * 1000);
    const { X509Certificate } = await import('@peculiar/x509');
    expect(await crl.verify({ publicKey: new X509Certificate(ca.certPem) })).toBe(true);
  });
});
