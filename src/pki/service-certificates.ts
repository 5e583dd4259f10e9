// The air's service credential: a client certificate of type air_service that names no organisation.
import type { PeerCertificate } from 'node:tls';
import type { CertificateAndKey, IssuedClientCertificate } from './types.ts';
import {
  generateKeyPair,
  isWellFormedText,
  normalizeSerial,
  OID,
  parseAuthority,
  randomSerial,
  signCertificate,
  validityPeriod,
} from './x509.ts';

/** The OU of a service certificate; no analyst key type has it, so analyst routes refuse it. */
export const AIR_SERVICE_KEY_TYPE = 'air_service';
/**
 * The O of a service certificate. It acts for every organisation (the air passes the one it means
 * with each call), so it names the installation rather than one organisation.
 */
export const SERVICE_ORGANISATION = 'opencloak-installation';

export interface ServiceIdentity {
  keyId: string;
  serial: string;
}

export function issueServiceCertificate(
  ca: CertificateAndKey,
  keyId: string,
  opts: { validDays: number },
): IssuedClientCertificate {
  if (!isWellFormedText(keyId)) throw new RangeError('A service certificate needs a keyId.');
  const authority = parseAuthority(ca);
  const validity = validityPeriod(opts.validDays, authority.notAfter);
  const serial = randomSerial();
  const keys = generateKeyPair();
  const certPem = signCertificate(
    {
      subject: [
        { type: OID.organizationName, value: SERVICE_ORGANISATION },
        { type: OID.organizationalUnitName, value: AIR_SERVICE_KEY_TYPE },
        { type: OID.commonName, value: keyId },
      ],
      publicKey: keys.publicKey,
      serial,
      validity,
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true },
        { name: 'subjectKeyIdentifier' },
        { name: 'authorityKeyIdentifier', keyIdentifier: authority.keyIdentifier },
      ],
    },
    { authority },
  );
  return {
    certPem,
    keyPem: keys.keyPem,
    serial: serial.replace(/^0+/, ''),
    notAfter: validity.notAfter,
  };
}

/**
 * Parsing only, like identityFromPeerCertificate: the caller must also require
 * `socket.authorized`. Anything but exactly the subject issueServiceCertificate writes is undefined.
 */
export function serviceIdentityFromPeerCertificate(
  cert: PeerCertificate | undefined,
): ServiceIdentity | undefined {
  const subject = (cert as Partial<PeerCertificate> | undefined)?.subject as unknown;
  if (typeof subject !== 'object' || subject === null) return undefined;
  const fields = subject as Record<string, unknown>;
  const names = Object.keys(fields).sort().join(',');
  if (names !== 'CN,O,OU') return undefined;
  if (fields.O !== SERVICE_ORGANISATION || fields.OU !== AIR_SERVICE_KEY_TYPE) return undefined;
  const keyId = typeof fields.CN === 'string' && fields.CN.length > 0 ? fields.CN : undefined;
  const serial =
    typeof cert?.serialNumber === 'string' ? normalizeSerial(cert.serialNumber) : undefined;
  return keyId && serial ? { keyId, serial } : undefined;
}
