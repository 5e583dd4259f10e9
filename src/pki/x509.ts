// Certificate building blocks for the issuers: key pairs, random serials, UTF-8 names, native signing.
import crypto, { type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateAndKey } from './types.ts';

const { asn1, pki } = forge;
const DAY_MS = 86_400_000;
/** Backdating absorbs clock differences between this machine and its clients. */
const BACKDATE_MS = 60 * 60 * 1000;

export const OID = {
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  // RFC 4519 `uid`: OpenSSL names it "UID", so Node's getPeerCertificate().subject shows it as such.
  userId: '0.9.2342.19200300.100.1.1',
} as const;

export interface NameAttribute {
  type: string;
  value: string;
}

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Unencrypted PKCS#8 PEM. */
  keyPem: string;
}

/** Native key generation: forge's pure-JS RSA key generation takes seconds. */
export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { privateKey, publicKey, keyPem };
}

/** 128 random bits; a non-zero first byte keeps the length fixed and the DER encoding minimal. */
export function randomSerial(): string {
  for (;;) {
    const bytes = crypto.randomBytes(16);
    if (bytes[0] !== 0) return bytes.toString('hex');
  }
}

/** The one serial spelling used everywhere: lowercase hex, no leading zeros. */
export function normalizeSerial(hex: string): string | undefined {
  if (!/^[0-9a-fA-F]+$/.test(hex)) return undefined;
  const serial = hex.toLowerCase().replace(/^0+/, '');
  return serial.length > 0 ? serial : undefined;
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/** The certificate never outlives its issuer: a chain with an expired CA fails anyway. */
export function validityPeriod(
  validDays: number,
  issuerNotAfter?: Date,
  now = Date.now(),
): Validity {
  if (!Number.isFinite(validDays) || validDays <= 0) {
    throw new RangeError(`validDays must be a positive number of days, got ${validDays}.`);
  }
  // Certificates carry whole seconds; rounding here keeps the reported notAfter exact.
  const seconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);
  let notAfter = now + validDays * DAY_MS;
  if (issuerNotAfter) notAfter = Math.min(notAfter, issuerNotAfter.getTime());
  if (notAfter <= now) {
    throw new RangeError(`The CA certificate expired on ${issuerNotAfter?.toISOString()}.`);
  }
  return { notBefore: seconds(now - BACKDATE_MS), notAfter: seconds(notAfter) };
}

/** A non-empty string that survives UTF-8 encoding (no lone surrogates). */
export function isWellFormedText(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    Buffer.from(value, 'utf8').toString('utf8') === value
  );
}

/** What issuing under a CA needs, parsed once per CA. */
export interface Authority {
  /** The CA's subject Name, copied byte for byte into the issuer field of what it signs. */
  subject: forge.asn1.Asn1;
  /** Raw bytes (binary string) for the authorityKeyIdentifier of issued certificates. */
  keyIdentifier: string;
  privateKey: KeyObject;
  notAfter: Date;
}

const authorities = new Map<string, Authority>();

export function parseAuthority(ca: CertificateAndKey): Authority {
  const cacheKey = ca.certPem + ca.keyPem;
  const cached = authorities.get(cacheKey);
  if (cached) return cached;
  const x509 = new crypto.X509Certificate(ca.certPem);
  if (!x509.ca) throw new Error('The CA certificate is not a certificate authority.');
  const privateKey = crypto.createPrivateKey(ca.keyPem);
  if (!x509.checkPrivateKey(privateKey)) {
    throw new Error('The CA private key does not belong to the CA certificate.');
  }
  const certAsn1 = asn1.fromDer(x509.raw.toString('binary'));
  const cert = pki.certificateFromAsn1(certAsn1);
  const ski = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  const authority: Authority = {
    subject: tbsField(certAsn1, 'subject'),
    keyIdentifier: ski?.subjectKeyIdentifier
      ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
      : cert.generateSubjectKeyIdentifier().getBytes(),
    privateKey,
    notAfter: cert.validity.notAfter,
  };
  if (authorities.size >= 8) authorities.clear();
  authorities.set(cacheKey, authority);
  return authority;
}

/** TBSCertificate ::= SEQUENCE { [0] version, serial, signature, issuer, validity, subject, ... } */
function tbsField(certAsn1: forge.asn1.Asn1, field: 'issuer' | 'subject'): forge.asn1.Asn1 {
  const tbs = (certAsn1.value as forge.asn1.Asn1[])[0];
  const fields = tbs?.value as forge.asn1.Asn1[] | undefined;
  const hasVersion = fields?.[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC;
  const node = fields?.[(field === 'issuer' ? 3 : 5) - (hasVersion ? 0 : 1)];
  if (!node || node.type !== asn1.Type.SEQUENCE)
    throw new Error(`Certificate has no ${field} name.`);
  return node;
}

export interface CertificateSpec {
  subject: NameAttribute[];
  publicKey: KeyObject;
  serial: string;
  validity: Validity;
  /** node-forge extension descriptors. */
  extensions: object[];
}

const getTbsCertificate = (
  pki as unknown as { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 }
).getTBSCertificate;

/**
 * Builds the certificate with forge and signs it with Node's crypto (forge's JS RSA is slow).
 * Without an authority the certificate is self-signed by `selfKey`.
 */
export function signCertificate(
  spec: CertificateSpec,
  signer: { authority: Authority } | { selfKey: KeyObject },
): string {
  const cert = pki.createCertificate();
  // A positive INTEGER needs a leading zero byte when the top bit is set.
  cert.serialNumber = /^[89a-f]/.test(spec.serial) ? `00${spec.serial}` : spec.serial;
  cert.validity.notBefore = spec.validity.notBefore;
  cert.validity.notAfter = spec.validity.notAfter;
  cert.publicKey = pki.publicKeyFromPem(
    spec.publicKey.export({ type: 'spki', format: 'pem' }) as string,
  );
  // UTF8String for every attribute: forge would otherwise write PrintableString, which cannot hold
  // arbitrary user ids.
  const name = spec.subject.map((a) => ({
    type: a.type,
    value: a.value,
    valueTagClass: asn1.Type.UTF8 as unknown as forge.asn1.Class,
  }));
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions(spec.extensions);
  cert.siginfo.algorithmOid = cert.signatureOid = pki.oids.sha256WithRSAEncryption!;

  const tbs = getTbsCertificate(cert);
  if ('authority' in signer) (tbs.value as forge.asn1.Asn1[])[3] = signer.authority.subject;
  const signingKey = 'authority' in signer ? signer.authority.privateKey : signer.selfKey;
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');
  const signature = crypto.sign('sha256', tbsDer, signingKey).toString('binary');

  const U = asn1.Class.UNIVERSAL;
  const certAsn1 = asn1.create(U, asn1.Type.SEQUENCE, true, [
    tbs,
    asn1.create(U, asn1.Type.SEQUENCE, true, [
      asn1.create(U, asn1.Type.OID, false, asn1.oidToDer(cert.signatureOid).getBytes()),
      asn1.create(U, asn1.Type.NULL, false, ''),
    ]),
    asn1.create(U, asn1.Type.BITSTRING, false, `\0${signature}`),
  ]);
  const der = Buffer.from(asn1.toDer(certAsn1).getBytes(), 'binary');
  return new crypto.X509Certificate(der).toString();
}
