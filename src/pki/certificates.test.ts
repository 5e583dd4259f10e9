// What the issued certificates contain: CA constraints, server names, client subjects, serials and validity.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
  type ClientSubject,
} from './index.ts';

const DAY_MS = 86_400_000;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ca = createCertificateAuthority({ commonName: 'Certificates test CA ✓', validDays: 60 });
const caCert = new crypto.X509Certificate(ca.certPem);

describe('the CA', () => {
  it('is a self-signed CA whose key matches, as unencrypted PKCS#8', () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe('CN=Certificates test CA ✓');
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(caCert.checkPrivateKey(crypto.createPrivateKey(ca.keyPem))).toBe(true);
    expect(Date.parse(caCert.validTo) - Date.now()).toBeGreaterThan(59 * DAY_MS);
  });
});

describe('server certificates', () => {
  it('put DNS names and IPv4/IPv6 literals into subjectAltName, the first host into CN', () => {
    const server = issueServerCertificate(ca, {
      hosts: [
        'Example.Test',
        '127.0.0.1',
        '[::1]',
        '2001:db8::ffff:1.2.3.4',
        'bücher.test',
        'localhost',
        '::1',
      ],
      validDays: 30,
    });
    const cert = new crypto.X509Certificate(server.certPem);
    expect(cert.subject).toBe('CN=example.test');
    expect(cert.subjectAltName).toBe(
      'DNS:example.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, ' +
        'IP Address:2001:DB8:0:0:0:FFFF:102:304, DNS:xn--bcher-kva.test, DNS:localhost',
    );
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert) && cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(crypto.createPrivateKey(server.keyPem))).toBe(true);
  });

  it('reject hosts that are not names or addresses, and an empty list', () => {
    expect(() => issueServerCertificate(ca, { hosts: [], validDays: 1 })).toThrow(
      /at least one host/,
    );
    expect(() => issueServerCertificate(ca, { hosts: ['bad host'], validDays: 1 })).toThrow();
    expect(() => issueServerCertificate(ca, { hosts: ['fe80::1%eth0'], validDays: 1 })).toThrow(
      /zone/,
    );
  });

  it('never outlive the CA', () => {
    const server = issueServerCertificate(ca, { hosts: ['localhost'], validDays: 825 });
    expect(new crypto.X509Certificate(server.certPem).validTo).toBe(caCert.validTo);
  });
});

describe('client certificates', () => {
  const subject: ClientSubject = {
    orgId: 'org-ü',
    keyType: 'upload_user',
    keyId: 'key-1',
    userId: 'a,b=c',
  };

  it('state O, OU, CN and UID and are for client authentication only', () => {
    const issued = issueClientCertificate(ca, subject, { validDays: 10 });
    const cert = new crypto.X509Certificate(issued.certPem);
    expect(cert.subject.split('\n')).toEqual([
      'O=org-ü',
      'OU=upload_user',
      'CN=key-1',
      'UID=a\\,b=c',
    ]);
    expect(cert.issuer).toBe(caCert.subject);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual([CLIENT_AUTH]);
    expect(cert.checkIssued(caCert) && cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(crypto.createPrivateKey(issued.keyPem))).toBe(true);
  });

  it('report the serial (random 128 bits, lowercase hex, no leading zeros) and notAfter exactly', () => {
    const serials = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const before = Date.now();
      const issued = issueClientCertificate(
        ca,
        { orgId: 'o', keyType: 'admin', keyId: `k${i}` },
        { validDays: 10 },
      );
      const after = Date.now();
      const cert = new crypto.X509Certificate(issued.certPem);
      expect(issued.serial).toMatch(/^[1-9a-f][0-9a-f]{0,31}$/);
      expect(issued.serial.length).toBeGreaterThanOrEqual(31);
      expect(cert.serialNumber.toLowerCase().replace(/^0+/, '')).toBe(issued.serial);
      expect(issued.notAfter.getTime()).toBe(Date.parse(cert.validTo));
      // Ten days from when it was issued (a certificate's times have whole seconds).
      expect(issued.notAfter.getTime()).toBeGreaterThanOrEqual(before + 10 * DAY_MS - 1000);
      expect(issued.notAfter.getTime()).toBeLessThanOrEqual(after + 10 * DAY_MS);
      serials.add(issued.serial);
    }
    expect(serials.size).toBe(4);
  });

  it('are clamped to the CA lifetime', () => {
    const issued = issueClientCertificate(
      ca,
      { orgId: 'o', keyType: 'web_api', keyId: 'k' },
      { validDays: 3650 },
    );
    expect(issued.notAfter.getTime()).toBe(Date.parse(caCert.validTo));
  });

  it('refuse a subject that would be ambiguous', () => {
    const bad: Array<[string, ClientSubject]> = [
      ['upload_user without user', { orgId: 'o', keyType: 'upload_user', keyId: 'k' }],
      [
        'upload_user with empty user',
        { orgId: 'o', keyType: 'upload_user', keyId: 'k', userId: '' },
      ],
      ['other type with user', { orgId: 'o', keyType: 'web_api', keyId: 'k', userId: 'u' }],
      ['unknown type', { orgId: 'o', keyType: 'root' as never, keyId: 'k' }],
      ['no org', { orgId: '', keyType: 'admin', keyId: 'k' }],
      ['no key id', { orgId: 'o', keyType: 'admin', keyId: '' }],
      ['lone surrogate', { orgId: 'o', keyType: 'upload_user', keyId: 'k', userId: 'x\udc00' }],
    ];
    for (const [what, s] of bad) {
      expect(() => issueClientCertificate(ca, s, { validDays: 1 }), what).toThrow(RangeError);
    }
    expect(() => issueClientCertificate(ca, subject, { validDays: 0 })).toThrow(/validDays/);
  });

  it('need the CA key that belongs to the CA certificate', () => {
    const other = createCertificateAuthority({ commonName: 'Other', validDays: 1 });
    expect(() =>
      issueClientCertificate({ certPem: ca.certPem, keyPem: other.keyPem }, subject, {
        validDays: 1,
      }),
    ).toThrow(/does not belong/);
  });
});
