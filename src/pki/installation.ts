// The installation's PKI on disk: created on first start, loaded afterwards, server certificate kept current.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createCertificateAuthority, issueServerCertificate } from './ca.ts';
import { hostKey, hostKeysOfCertificate, parseHosts } from './hosts.ts';
import type { CertificateAndKey, InstallationPki } from './types.ts';

const DAY_MS = 86_400_000;
const RENEW_BEFORE_DAYS = 30;
const CA_COMMON_NAME = 'OpenCloak installation CA';

/**
 * The CA is never replaced automatically: every client key ever issued depends on it, so a
 * half-present or broken CA is an error for a human to resolve. The server certificate is
 * disposable and is re-issued whenever it does not fit the configuration.
 */
export function loadOrCreateInstallationPki(
  dir: string,
  opts: {
    hosts: string[];
    caValidDays?: number;
    serverValidDays?: number;
    /**
     * Encrypts the CA key on disk (PKCS#8 with AES-256-CBC)
     * so that a copy of the data directory alone cannot issue keys. An unencrypted CA key found
     * on disk is encrypted in place at this start.
     */
    caPassphrase?: string;
  },
): InstallationPki {
  const caValidDays = opts.caValidDays ?? 3650;
  const serverValidDays = opts.serverValidDays ?? 825;
  const wantedHosts = parseHosts(opts.hosts).map(hostKey).sort();
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
  }
  const files = {
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    serverCert: path.join(dir, 'server.crt'),
    serverKey: path.join(dir, 'server.key'),
  };

  const passphrase = opts.caPassphrase;
  let ca = readPair(files.caCert, files.caKey, 'CA', false, passphrase);
  if (!ca) {
    ca = createCertificateAuthority({ commonName: CA_COMMON_NAME, validDays: caValidDays });
    // Key first: a crash in between leaves a key without a certificate, which nothing can use.
    writeFileAtomically(files.caKey, caKeyFile(ca.keyPem, passphrase), 0o600);
    writeFileAtomically(files.caCert, ca.certPem, 0o644);
  } else if (passphrase !== undefined && !isEncryptedPem(fs.readFileSync(files.caKey, 'utf8'))) {
    writeFileAtomically(files.caKey, caKeyFile(ca.keyPem, passphrase), 0o600);
  }
  const caCert = new crypto.X509Certificate(ca.certPem);
  if (!caCert.ca || !caCert.checkPrivateKey(crypto.createPrivateKey(ca.keyPem))) {
    throw new Error(`${files.caKey} does not belong to the CA certificate ${files.caCert}.`);
  }
  if (Date.parse(caCert.validTo) <= Date.now()) {
    throw new Error(
      `The installation CA (${files.caCert}) expired on ${caCert.validTo}. Move ${dir} aside to ` +
        'create a new CA; every client key must then be issued again.',
    );
  }

  let server = readPair(files.serverCert, files.serverKey, 'server', true);
  if (!server || !serverCertificateFits(server, caCert, wantedHosts)) {
    server = issueServerCertificate(ca, { hosts: opts.hosts, validDays: serverValidDays });
    writeFileAtomically(files.serverKey, server.keyPem, 0o600);
    writeFileAtomically(files.serverCert, server.certPem, 0o644);
  }
  return { ca, server, caCertPath: files.caCert };
}

/** undefined when neither file exists; an error when only one does (unless `replaceable`). */
function readPair(
  certPath: string,
  keyPath: string,
  what: string,
  replaceable = false,
  passphrase?: string,
): CertificateAndKey | undefined {
  const haveCert = fs.existsSync(certPath);
  const haveKey = fs.existsSync(keyPath);
  if (!haveCert && !haveKey) return undefined;
  if (haveCert !== haveKey) {
    if (replaceable) return undefined;
    throw new Error(
      `Found ${haveCert ? certPath : keyPath} but not ${haveCert ? keyPath : certPath}: the ${what} ` +
        'certificate and key belong together. Restore the missing file, or move both aside to start a new CA.',
    );
  }
  restrictKeyFile(keyPath);
  const certPem = fs.readFileSync(certPath, 'utf8');
  const stored = fs.readFileSync(keyPath, 'utf8');
  if (isEncryptedPem(stored) && passphrase === undefined) {
    throw new Error(
      `${keyPath} is encrypted: set OPENCLOAK_CA_PASSPHRASE to the passphrase it was encrypted with.`,
    );
  }
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(
      passphrase === undefined ? stored : { key: stored, passphrase, format: 'pem' },
    );
  } catch {
    throw new Error(
      `${keyPath} could not be read${isEncryptedPem(stored) ? ' with the passphrase in OPENCLOAK_CA_PASSPHRASE' : ''}: check the passphrase, or restore the file.`,
    );
  }
  // Normalized to unencrypted PKCS#8 in memory, whatever PEM flavour was placed there.
  return { certPem, keyPem: key.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function isEncryptedPem(pem: string): boolean {
  return pem.includes('ENCRYPTED');
}

/** The CA key as written to disk: encrypted when the operator gave a passphrase. */
function caKeyFile(keyPem: string, passphrase: string | undefined): string {
  if (passphrase === undefined) return keyPem;
  return crypto.createPrivateKey(keyPem).export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase,
  }) as string;
}

function serverCertificateFits(
  server: CertificateAndKey,
  caCert: crypto.X509Certificate,
  wantedHosts: string[],
): boolean {
  try {
    const cert = new crypto.X509Certificate(server.certPem);
    const renewAt = Date.parse(cert.validTo) - RENEW_BEFORE_DAYS * DAY_MS;
    return (
      cert.checkIssued(caCert) &&
      cert.verify(caCert.publicKey) &&
      cert.checkPrivateKey(crypto.createPrivateKey(server.keyPem)) &&
      Date.now() < renewAt &&
      hostKeysOfCertificate(server.certPem).join(',') === wantedHosts.join(',')
    );
  } catch {
    return false; // unreadable: issue a fresh one
  }
}

/** Someone may have copied the key in with a loose mode; the key must be readable by us only. */
function restrictKeyFile(keyPath: string): void {
  if (process.platform !== 'win32' && (fs.statSync(keyPath).mode & 0o077) !== 0) {
    fs.chmodSync(keyPath, 0o600);
  }
}

/** Temp file plus rename: readers never see a half-written key, and the mode is set before content. */
function writeFileAtomically(file: string, content: string, mode: number): void {
  const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(temp, content, { mode, flag: 'wx' });
    fs.chmodSync(temp, mode);
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}
