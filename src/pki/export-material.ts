// Checks shared by the key-file exports: the password rules and that key, certificate and CA belong together.
import crypto, { type KeyObject, type X509Certificate } from 'node:crypto';
import type { ExportMaterial } from './types.ts';

/** The specification's minimum ("at least 4 characters"), counted like String#length. */
export const MIN_KEY_PASSWORD_LENGTH = 4;
/** OpenSSL's PEM password buffer is 1024 bytes; a longer password would give an unopenable file. */
const MAX_KEY_PASSWORD_BYTES = 1023;

export function checkExportPassword(password: string): void {
  if (typeof password !== 'string' || password.length < MIN_KEY_PASSWORD_LENGTH) {
    throw new RangeError(`A key password needs at least ${MIN_KEY_PASSWORD_LENGTH} characters.`);
  }
  // C clients (curl, OpenSSL) end a password at NUL, and lone surrogates have no UTF-8 form.
  if (password.includes('\0') || Buffer.from(password, 'utf8').toString('utf8') !== password) {
    throw new RangeError('A key password cannot contain NUL or unpaired surrogate characters.');
  }
  if (Buffer.byteLength(password, 'utf8') > MAX_KEY_PASSWORD_BYTES) {
    throw new RangeError(`A key password can be at most ${MAX_KEY_PASSWORD_BYTES} bytes long.`);
  }
}

export interface CheckedMaterial {
  cert: X509Certificate;
  caCert: X509Certificate;
  privateKey: KeyObject;
}

/** A file whose key does not fit its certificate would only fail later, at the client. */
export function checkMaterial(m: ExportMaterial): CheckedMaterial {
  const cert = new crypto.X509Certificate(m.certPem);
  const caCert = new crypto.X509Certificate(m.caCertPem);
  const privateKey = crypto.createPrivateKey(m.keyPem);
  if (!cert.checkPrivateKey(privateKey)) {
    throw new Error('The private key does not belong to the certificate.');
  }
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) {
    throw new Error('The certificate was not issued by the given CA certificate.');
  }
  return { cert, caCert, privateKey };
}
