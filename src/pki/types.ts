// The data shapes of the installation PKI: certificates with keys, client subjects and identities.
import type { KeyType } from '../shared/index.ts';

/** A certificate and its private key, both PEM. `keyPem` is unencrypted PKCS#8: keep it in memory or in a 0600 file. */
export interface CertificateAndKey {
  certPem: string;
  keyPem: string;
}

/** What a client certificate states about its holder; `userId` is present iff `keyType` is `upload_user`. */
export interface ClientSubject {
  orgId: string;
  keyType: KeyType;
  keyId: string;
  userId?: string;
}

export interface IssuedClientCertificate extends CertificateAndKey {
  /** Lowercase hex without leading zeros, as `identityFromPeerCertificate` reports it. */
  serial: string;
  notAfter: Date;
}

/** What goes into a downloadable key file. */
export interface ExportMaterial {
  certPem: string;
  keyPem: string;
  caCertPem: string;
}

/** A verified client's subject plus the serial that the key registry is keyed by. */
export interface ClientIdentity extends ClientSubject {
  serial: string;
}

export interface InstallationPki {
  ca: CertificateAndKey;
  server: CertificateAndKey;
  caCertPath: string;
}
