// The installation's certificate revocation list, signed by its CA, for the TLS layer's checks.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { CertificateAndKey } from './types.ts';

export interface RevokedCertificate {
  /** Lowercase hex, as the key registry stores it. */
  serial: string;
  revokedAt: Date;
}

export interface CrlValidity {
  thisUpdate: Date;
  /** After this OpenSSL refuses every client certificate, so the caller re-signs well before. */
  nextUpdate: Date;
}

const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

// @peculiar/x509 builds and signs the CRL (node-forge, used for certificates, has no CRL support).
x509.cryptoProvider.set(webcrypto as never);

/**
 * A PEM CRL listing `revoked`, issued by `ca` with the CA certificate's own subject bytes (OpenSSL
 * matches the CRL to the CA by that name).
 */
export async function createCrl(
  ca: CertificateAndKey,
  revoked: readonly RevokedCertificate[],
  validity: CrlValidity,
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(ca.keyPem),
    RSA_SHA256,
    false,
    ['sign'],
  );
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCert.subjectName,
    thisUpdate: validity.thisUpdate,
    nextUpdate: validity.nextUpdate,
    entries: revoked.map((r) => ({ serialNumber: evenHex(r.serial), revocationDate: r.revokedAt })),
    signingAlgorithm: RSA_SHA256,
    signingKey: signingKey as never,
  });
  // OpenSSL reads only the "X509 CRL" PEM label; the library writes "CRL".
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}

/** The generator reads serials as hex bytes, so an odd number of digits gets a leading zero. */
function evenHex(serial: string): string {
  return serial.length % 2 === 1 ? `0${serial}` : serial;
}
