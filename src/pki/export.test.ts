// Key-file exports checked with OpenSSL itself: .pfx (AES and legacy) and encrypted PEM, plus password rules.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCertificateAuthority,
  issueClientCertificate,
  MIN_KEY_PASSWORD_LENGTH,
  toEncryptedPem,
  toPkcs12,
  type ExportMaterial,
} from './index.ts';

const PASSWORD = 'pässwörd 💥:1';
let material: ExportMaterial;
let dir: string;

beforeAll(() => {
  const ca = createCertificateAuthority({ commonName: 'Export test CA', validDays: 30 });
  const issued = issueClientCertificate(
    ca,
    { orgId: 'org', keyType: 'web_api', keyId: 'export-key' },
    { validDays: 7 },
  );
  material = { certPem: issued.certPem, keyPem: issued.keyPem, caCertPem: ca.certPem };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opencloak-pki-export-'));
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: Buffer | string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

/** Runs openssl; returns stdout and throws on a non-zero exit. */
function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `openssl pkcs12 -info` prints the algorithms on stderr and the certificates on stdout. */
function opensslInfo(file: string): string {
  const result = spawnSync(
    'openssl',
    ['pkcs12', '-info', '-nokeys', '-in', file, '-passin', `pass:${PASSWORD}`],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`openssl pkcs12 -info failed: ${result.stderr}`);
  return result.stderr + result.stdout;
}

describe('PKCS#12', () => {
  it('default: OpenSSL 3 opens it without -legacy, with AES-256 PBES2 and a SHA-256 MAC', () => {
    const file = write('aes.pfx', toPkcs12(material, PASSWORD));
    expect(() =>
      openssl(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-noout']),
    ).not.toThrow();
    const info = opensslInfo(file);
    expect(info).toContain('PBES2, PBKDF2, AES-256-CBC');
    expect(info).toContain('PRF hmacWithSHA256');
    expect(info).toContain('MAC: sha256');
  });

  it('legacy: 3DES key bag and SHA-1 MAC, opens with and without -legacy', () => {
    const file = write('legacy.pfx', toPkcs12(material, PASSWORD, { legacy: true }));
    for (const extra of [['-legacy'], []]) {
      expect(() =>
        openssl(['pkcs12', ...extra, '-in', file, '-passin', `pass:${PASSWORD}`, '-noout']),
      ).not.toThrow();
    }
    const info = opensslInfo(file);
    expect(info).toContain('pbeWithSHA1And3-KeyTripleDES-CBC');
    expect(info).toContain('MAC: sha1');
  });

  it.each([false, true])('legacy=%s fails with a wrong password', (legacy) => {
    const file = write(`wrong-${legacy}.pfx`, toPkcs12(material, PASSWORD, { legacy }));
    expect(() =>
      openssl(['pkcs12', '-in', file, '-passin', 'pass:wrong password', '-noout']),
    ).toThrow();
    expect(() => openssl(['pkcs12', '-in', file, '-passin', 'pass:', '-noout'])).toThrow();
  });

  it('holds the client certificate with its key id and friendly name, then the CA certificate', () => {
    const file = write('bag.pfx', toPkcs12(material, PASSWORD, { friendlyName: 'My web key' }));
    const info = opensslInfo(file);
    expect(info.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(info).toMatch(
      /friendlyName: My web key[\s\S]*subject=O = org, OU = web_api, CN = export-key/,
    );
    expect(info).toContain('subject=CN = Export test CA');
    const keyOut = openssl([
      'pkcs12',
      '-nocerts',
      '-nodes',
      '-in',
      file,
      '-passin',
      `pass:${PASSWORD}`,
    ]);
    const key = crypto.createPrivateKey(keyOut);
    expect(new crypto.X509Certificate(material.certPem).checkPrivateKey(key)).toBe(true);
  });

  it('opens in Node with the password, and not with another', () => {
    const pfx = toPkcs12(material, PASSWORD);
    expect(() => tls.createSecureContext({ pfx, passphrase: PASSWORD })).not.toThrow();
    expect(() => tls.createSecureContext({ pfx, passphrase: 'other' })).toThrow();
  });
});

describe('encrypted PEM', () => {
  it('holds the certificate, an encrypted PKCS#8 key and the CA certificate', () => {
    const pem = toEncryptedPem(material, PASSWORD);
    expect(pem.match(/-----BEGIN [A-Z ]+-----/g)).toEqual([
      '-----BEGIN CERTIFICATE-----',
      '-----BEGIN ENCRYPTED PRIVATE KEY-----',
      '-----BEGIN CERTIFICATE-----',
    ]);
    expect(new crypto.X509Certificate(pem).subject).toContain('CN=export-key');
  });

  it('openssl pkey opens it with the password (AES-256-CBC, PBKDF2) and fails without', () => {
    const file = write('key.pem', toEncryptedPem(material, PASSWORD));
    expect(() =>
      openssl(['pkey', '-in', file, '-passin', `pass:${PASSWORD}`, '-noout']),
    ).not.toThrow();
    expect(() =>
      openssl(['pkey', '-in', file, '-passin', 'pass:wrong password', '-noout']),
    ).toThrow();
    const keyBlock = /-----BEGIN ENCRYPTED[\s\S]*?END ENCRYPTED PRIVATE KEY-----/.exec(
      fs.readFileSync(file, 'utf8'),
    )![0];
    const parsed = openssl(['asn1parse', '-in', write('only-key.pem', keyBlock)]);
    expect(parsed).toMatch(/PBES2[\s\S]*PBKDF2[\s\S]*hmacWithSHA256[\s\S]*aes-256-cbc/);
  });

  it('loads in Node as cert and key with the passphrase', () => {
    const pem = toEncryptedPem(material, PASSWORD);
    expect(() =>
      tls.createSecureContext({ cert: pem, key: pem, passphrase: PASSWORD }),
    ).not.toThrow();
    expect(() => crypto.createPrivateKey({ key: pem, passphrase: 'nope nope' })).toThrow();
  });
});

describe('export rules', () => {
  it('requires at least MIN_KEY_PASSWORD_LENGTH (4) characters', () => {
    expect(MIN_KEY_PASSWORD_LENGTH).toBe(4);
    for (const short of ['', 'a', 'abc']) {
      expect(() => toPkcs12(material, short)).toThrow(/at least 4/);
      expect(() => toPkcs12(material, short, { legacy: true })).toThrow(/at least 4/);
      expect(() => toEncryptedPem(material, short)).toThrow(/at least 4/);
    }
    expect(() => toPkcs12(material, 'abcd')).not.toThrow();
    expect(() => toEncryptedPem(material, 'abcd')).not.toThrow();
  });

  it('refuses passwords no client could type back (NUL, lone surrogate, over 1023 bytes)', () => {
    for (const bad of ['ab\0cd', 'abc\ud800', 'x'.repeat(1024)]) {
      expect(() => toPkcs12(material, bad)).toThrow(RangeError);
      expect(() => toEncryptedPem(material, bad)).toThrow(RangeError);
    }
  });

  it('refuses a key that does not belong to the certificate, or a foreign CA certificate', () => {
    const otherKey = crypto
      .generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => toPkcs12({ ...material, keyPem: otherKey }, PASSWORD)).toThrow(/does not belong/);
    const otherCa = createCertificateAuthority({ commonName: 'Other', validDays: 1 });
    expect(() => toEncryptedPem({ ...material, caCertPem: otherCa.certPem }, PASSWORD)).toThrow(
      /not issued by/,
    );
  });
});
