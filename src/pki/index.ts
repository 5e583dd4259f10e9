// Public surface of src/pki: the installation CA, server and client certificates, key-file exports.
export type {
  CertificateAndKey,
  ClientIdentity,
  ClientSubject,
  ExportMaterial,
  InstallationPki,
  IssuedClientCertificate,
} from './types.ts';
export { createCertificateAuthority, issueServerCertificate } from './ca.ts';
export { issueClientCertificate } from './client-certificates.ts';
export { MIN_KEY_PASSWORD_LENGTH } from './export-material.ts';
export { toPkcs12 } from './pkcs12.ts';
export { toEncryptedPem } from './pem.ts';
export { identityFromPeerCertificate } from './identity.ts';
export {
  AIR_SERVICE_KEY_TYPE,
  issueServiceCertificate,
  serviceIdentityFromPeerCertificate,
  type ServiceIdentity,
} from './service-certificates.ts';
export { loadOrCreateInstallationPki } from './installation.ts';
export { createCrl, type CrlValidity, type RevokedCertificate } from './crl.ts';
export { normalizeSerial } from './x509.ts';
