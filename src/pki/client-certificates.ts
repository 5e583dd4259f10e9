// Client certificates for the five key types: the subject states organisation, key type, key and user.
import { KEY_TYPES } from '../shared/index.ts';
import type { CertificateAndKey, ClientSubject, IssuedClientCertificate } from './types.ts';
import {
  generateKeyPair,
  isWellFormedText,
  OID,
  parseAuthority,
  randomSerial,
  signCertificate,
  validityPeriod,
  type NameAttribute,
} from './x509.ts';

/**
 * Subject: O = orgId, OU = keyType, CN = keyId, and for upload_user also UID = userId, all
 * UTF8String. Node shows them as `getPeerCertificate().subject.{O,OU,CN,UID}`.
 */
export function subjectAttributes(subject: ClientSubject): NameAttribute[] {
  if (!(KEY_TYPES as readonly string[]).includes(subject.keyType)) {
    throw new RangeError(`Unknown key type "${String(subject.keyType)}".`);
  }
  if (!isWellFormedText(subject.orgId))
    throw new RangeError('A client certificate needs an orgId.');
  if (!isWellFormedText(subject.keyId)) throw new RangeError('A client certificate needs a keyId.');
  const attributes: NameAttribute[] = [
    { type: OID.organizationName, value: subject.orgId },
    { type: OID.organizationalUnitName, value: subject.keyType },
    { type: OID.commonName, value: subject.keyId },
  ];
  if (subject.keyType === 'upload_user') {
    if (!isWellFormedText(subject.userId)) {
      throw new RangeError('An upload_user certificate needs a userId.');
    }
    attributes.push({ type: OID.userId, value: subject.userId });
  } else if (subject.userId !== undefined) {
    throw new RangeError(`Only upload_user certificates name a user, not ${subject.keyType}.`);
  }
  return attributes;
}

export function issueClientCertificate(
  ca: CertificateAndKey,
  subject: ClientSubject,
  opts: { validDays: number },
): IssuedClientCertificate {
  return issueClientAuthCertificate(ca, subjectAttributes(subject), opts);
}

/**
 * A TLS client-authentication certificate for `attributes`, signed by the installation CA: what
 * analyst keys and the air's service key share; only their subjects differ.
 */
export function issueClientAuthCertificate(
  ca: CertificateAndKey,
  attributes: NameAttribute[],
  opts: { validDays: number },
): IssuedClientCertificate {
  const authority = parseAuthority(ca);
  const validity = validityPeriod(opts.validDays, authority.notAfter);
  const serial = randomSerial();
  const keys = generateKeyPair();
  const certPem = signCertificate(
    {
      subject: attributes,
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
  // randomSerial's first byte is non-zero, so only a leading zero nibble can need trimming.
  return {
    certPem,
    keyPem: keys.keyPem,
    serial: serial.replace(/^0+/, ''),
    notAfter: validity.notAfter,
  };
}
