// The air's service credential: a client certificate of type air_service that names no organisation.
import type { PeerCertificate } from 'node:tls';
import type { CertificateAndKey, IssuedClientCertificate } from './types.ts';
import { issueClientAuthCertificate } from './client-certificates.ts';
import { isWellFormedText, normalizeSerial, OID } from './x509.ts';

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
  return issueClientAuthCertificate(
    ca,
    [
      { type: OID.organizationName, value: SERVICE_ORGANISATION },
      { type: OID.organizationalUnitName, value: AIR_SERVICE_KEY_TYPE },
      { type: OID.commonName, value: keyId },
    ],
    opts,
  );
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
