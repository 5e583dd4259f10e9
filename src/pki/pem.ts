// PEM export of a client key: certificate, password-encrypted PKCS#8 key and CA certificate in one file.
import { checkExportPassword, checkMaterial } from './export-material.ts';
import type { ExportMaterial } from './types.ts';

/**
 * The key is PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC). One file serves as both `--cert` and `--key`
 * for curl and as `cert` and `key` for Node: PEM readers skip blocks of other types. The CA
 * certificate comes last so that readers taking the first certificate get the client's.
 */
export function toEncryptedPem(m: ExportMaterial, password: string): string {
  checkExportPassword(password);
  const { cert, caCert, privateKey } = checkMaterial(m);
  const encryptedKey = privateKey.export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: password,
  }) as string;
  return [cert.toString(), encryptedKey, caCert.toString()].map((p) => p.trimEnd() + '\n').join('');
}
