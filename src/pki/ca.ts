// The installation's certificate authority and the TLS server certificate it signs.
import { hostText, parseHosts, subjectAltNames } from './hosts.ts';
import type { CertificateAndKey } from './types.ts';
import {
  generateKeyPair,
  isWellFormedText,
  OID,
  parseAuthority,
  randomSerial,
  signCertificate,
  validityPeriod,
} from './x509.ts';

export function createCertificateAuthority(opts: {
  commonName: string;
  validDays: number;
}): CertificateAndKey {
  if (!isWellFormedText(opts.commonName)) throw new RangeError('The CA needs a common name.');
  const keys = generateKeyPair();
  const certPem = signCertificate(
    {
      subject: [{ type: OID.commonName, value: opts.commonName }],
      publicKey: keys.publicKey,
      serial: randomSerial(),
      validity: validityPeriod(opts.validDays),
      extensions: [
        // pathLen 0: this CA signs end-entity certificates only, never another CA.
        { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        { name: 'subjectKeyIdentifier' },
      ],
    },
    { selfKey: keys.privateKey },
  );
  return { certPem, keyPem: keys.keyPem };
}

/** `hosts`: DNS names and IP literals; each becomes a subjectAltName, the first is also the CN. */
export function issueServerCertificate(
  ca: CertificateAndKey,
  opts: { hosts: string[]; validDays: number },
): CertificateAndKey {
  const authority = parseAuthority(ca);
  const entries = parseHosts(opts.hosts);
  const keys = generateKeyPair();
  const certPem = signCertificate(
    {
      subject: [{ type: OID.commonName, value: hostText(entries[0]!) }],
      publicKey: keys.publicKey,
      serial: randomSerial(),
      validity: validityPeriod(opts.validDays, authority.notAfter),
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: subjectAltNames(entries) },
        { name: 'subjectKeyIdentifier' },
        { name: 'authorityKeyIdentifier', keyIdentifier: authority.keyIdentifier },
      ],
    },
    { authority },
  );
  return { certPem, keyPem: keys.keyPem };
}
