// loadOrCreateInstallationPki on a real directory: creation, modes, idempotence and server re-issue.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateInstallationPki } from './index.ts';

const HOSTS = ['localhost', '127.0.0.1', '::1'];
let root: string;
let dir: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'opencloak-pki-install-'));
  dir = path.join(root, 'data', 'pki');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const mode = (file: string) => fs.statSync(file).mode & 0o777;
const file = (name: string) => path.join(dir, name);
const posix = process.platform !== 'win32';

describe('loadOrCreateInstallationPki', () => {
  it('creates the CA and server files, keys 0600 in a 0700 directory', () => {
    const pki = loadOrCreateInstallationPki(dir, { hosts: HOSTS });
    expect(fs.readdirSync(dir).sort()).toEqual(['ca.crt', 'ca.key', 'server.crt', 'server.key']);
    expect(pki.caCertPath).toBe(file('ca.crt'));
    expect(fs.readFileSync(file('ca.crt'), 'utf8')).toBe(pki.ca.certPem);
    expect(fs.readFileSync(file('server.key'), 'utf8')).toBe(pki.server.keyPem);
    if (posix) {
      expect(mode(dir)).toBe(0o700);
      expect(mode(file('ca.key'))).toBe(0o600);
      expect(mode(file('server.key'))).toBe(0o600);
    }
    const ca = new crypto.X509Certificate(pki.ca.certPem);
    const server = new crypto.X509Certificate(pki.server.certPem);
    expect(ca.ca).toBe(true);
    expect(server.checkIssued(ca) && server.verify(ca.publicKey)).toBe(true);
    for (const host of HOSTS) {
      expect(server.checkHost(host) ?? server.checkIP(host)).toBeDefined();
    }
  });

  it('is idempotent: later calls load the same CA and server certificate', () => {
    const first = loadOrCreateInstallationPki(dir, { hosts: HOSTS });
    const second = loadOrCreateInstallationPki(dir, { hosts: [...HOSTS].reverse() });
    expect(second).toEqual(first);
  });

  it('re-issues the server certificate under the same CA when the hosts change', () => {
    const first = loadOrCreateInstallationPki(dir, { hosts: HOSTS });
    const second = loadOrCreateInstallationPki(dir, { hosts: [...HOSTS, 'cloak.example.org'] });
    expect(second.ca).toEqual(first.ca);
    expect(second.server.certPem).not.toBe(first.server.certPem);
    const server = new crypto.X509Certificate(second.server.certPem);
    expect(server.checkHost('cloak.example.org')).toBe('cloak.example.org');
    expect(server.checkIssued(new crypto.X509Certificate(first.ca.certPem))).toBe(true);
    expect(fs.readFileSync(file('server.crt'), 'utf8')).toBe(second.server.certPem);
    if (posix) expect(mode(file('server.key'))).toBe(0o600);
  });

  it('re-issues a server certificate that expires within 30 days', () => {
    const first = loadOrCreateInstallationPki(dir, { hosts: HOSTS, serverValidDays: 20 });
    const second = loadOrCreateInstallationPki(dir, { hosts: HOSTS, serverValidDays: 400 });
    expect(second.server.certPem).not.toBe(first.server.certPem);
    const third = loadOrCreateInstallationPki(dir, { hosts: HOSTS, serverValidDays: 400 });
    expect(third.server.certPem).toBe(second.server.certPem);
  });

  it('replaces a server certificate that is missing, broken or from another CA', () => {
    const first = loadOrCreateInstallationPki(dir, { hosts: HOSTS });
    fs.rmSync(file('server.key'));
    const second = loadOrCreateInstallationPki(dir, { hosts: HOSTS });
    expect(second.server.certPem).not.toBe(first.server.certPem);
    fs.writeFileSync(file('server.crt'), 'garbage');
    const third = loadOrCreateInstallationPki(dir, { hosts: HOSTS });
    expect(third.server.certPem).not.toBe(second.server.certPem);
    expect(third.ca).toEqual(first.ca);
  });

  it.skipIf(!posix)('tightens a key file that was made readable by others', () => {
    loadOrCreateInstallationPki(dir, { hosts: HOSTS });
    fs.chmodSync(file('ca.key'), 0o644);
    loadOrCreateInstallationPki(dir, { hosts: HOSTS });
    expect(mode(file('ca.key'))).toBe(0o600);
  });

  it('never replaces a half-present CA', () => {
    const first = loadOrCreateInstallationPki(dir, { hosts: HOSTS });
    fs.rmSync(file('ca.key'));
    expect(() => loadOrCreateInstallationPki(dir, { hosts: HOSTS })).toThrow(/ca\.key/);
    expect(fs.readFileSync(file('ca.crt'), 'utf8')).toBe(first.ca.certPem);
  });

  it('refuses a CA key that does not match the CA certificate', () => {
    loadOrCreateInstallationPki(dir, { hosts: HOSTS });
    const otherKey = crypto
      .generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' });
    fs.writeFileSync(file('ca.key'), otherKey);
    expect(() => loadOrCreateInstallationPki(dir, { hosts: HOSTS })).toThrow(/does not belong/);
  });
});

describe('the CA key passphrase (OPENCLOAK_CA_PASSPHRASE)', () => {
  it('keeps the CA key encrypted on disk and reads it back with the passphrase only', () => {
    const first = loadOrCreateInstallationPki(dir, { hosts: HOSTS, caPassphrase: 'correct horse' });
    const onDisk = fs.readFileSync(file('ca.key'), 'utf8');
    expect(onDisk).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    expect(() => crypto.createPrivateKey(onDisk)).toThrow();
    const again = loadOrCreateInstallationPki(dir, { hosts: HOSTS, caPassphrase: 'correct horse' });
    expect(again.ca.keyPem).toBe(first.ca.keyPem);
    expect(() => loadOrCreateInstallationPki(dir, { hosts: HOSTS })).toThrow(
      /ca.key is encrypted: set OPENCLOAK_CA_PASSPHRASE/,
    );
    expect(() => loadOrCreateInstallationPki(dir, { hosts: HOSTS, caPassphrase: 'wrong' })).toThrow(
      /could not be read with the passphrase in OPENCLOAK_CA_PASSPHRASE/,
    );
  });

  it('encrypts an existing unencrypted CA key in place when a passphrase is first given', () => {
    const plain = loadOrCreateInstallationPki(dir, { hosts: HOSTS });
    expect(fs.readFileSync(file('ca.key'), 'utf8')).not.toContain('ENCRYPTED');
    const locked = loadOrCreateInstallationPki(dir, { hosts: HOSTS, caPassphrase: 'pass phrase' });
    expect(locked.ca.keyPem).toBe(plain.ca.keyPem);
    expect(fs.readFileSync(file('ca.key'), 'utf8')).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    if (posix) expect(mode(file('ca.key'))).toBe(0o600);
  });
});
