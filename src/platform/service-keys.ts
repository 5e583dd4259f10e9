// The air's service keys: issued by the installation CA, listed in pki/service-keys.json, revocable.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors/index.ts';
import type { ServiceKeyRegistry } from '../http/index.ts';
import { issueServiceCertificate, type CertificateAndKey } from '../pki/index.ts';

export interface ServiceKeyRecord {
  id: string;
  /** Lowercase hex, as the TLS layer reports the presented certificate's serial. */
  serial: string;
  description: string;
  createdAt: number;
  notAfter: number;
  revokedAt: number | null;
}

/** The certificate, its unencrypted key and the CA certificate, as the air reads them. */
export interface ServiceKeyMaterial {
  certPem: string;
  keyPem: string;
  caCertPem: string;
}

function listPath(dataDir: string): string {
  return path.join(dataDir, 'pki', 'service-keys.json');
}

export function listServiceKeys(dataDir: string): ServiceKeyRecord[] {
  const file = listPath(dataDir);
  if (!existsSync(file)) return [];
  return JSON.parse(readFileSync(file, 'utf8')) as ServiceKeyRecord[];
}

/** Written whole and renamed into place, so that a reading cloak never sees half a list. */
function saveServiceKeys(dataDir: string, keys: ServiceKeyRecord[]): void {
  const file = listPath(dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/**
 * Issues a key and records it. The returned PEM holds the private key unencrypted: the air reads
 * it unattended at start, so the operator keeps the file 0600 on the air's host, as the server's
 * own key is kept.
 */
export function createServiceKey(
  dataDir: string,
  ca: CertificateAndKey,
  options: { description: string; validDays: number },
): { record: ServiceKeyRecord; pem: string } {
  const id = `air-${randomBytes(6).toString('hex')}`;
  const issued = issueServiceCertificate(ca, id, { validDays: options.validDays });
  const record: ServiceKeyRecord = {
    id,
    serial: issued.serial,
    description: options.description,
    createdAt: Date.now(),
    notAfter: issued.notAfter.getTime(),
    revokedAt: null,
  };
  saveServiceKeys(dataDir, [...listServiceKeys(dataDir), record]);
  return { record, pem: serviceKeyPem({ ...issued, caCertPem: ca.certPem }) };
}

export function revokeServiceKey(dataDir: string, id: string): ServiceKeyRecord {
  const keys = listServiceKeys(dataDir);
  const key = keys.find((k) => k.id === id);
  if (!key) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `There is no service key "${id}". \`opencloak service-key list\` shows them.`,
    });
  }
  key.revokedAt ??= Date.now();
  saveServiceKeys(dataDir, keys);
  return key;
}

/**
 * Reads the list again whenever the file changed, so that `opencloak service-key revoke` on the
 * cloak's host takes effect at the next request, also on open connections.
 */
export function serviceKeyRegistry(dataDir: string): ServiceKeyRegistry {
  let stamp = '';
  let bySerial = new Map<string, ServiceKeyRecord>();
  return {
    status(serial) {
      const file = listPath(dataDir);
      const now = existsSync(file) ? statSync(file) : undefined;
      const current = now ? `${now.mtimeMs}:${now.size}` : '';
      if (current !== stamp) {
        bySerial = new Map(listServiceKeys(dataDir).map((k) => [k.serial, k]));
        stamp = current;
      }
      const key = bySerial.get(serial);
      if (!key) return 'unknown';
      return key.revokedAt === null ? 'active' : 'revoked';
    },
  };
}

const BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g;

export function serviceKeyPem(material: ServiceKeyMaterial): string {
  return `${material.certPem.trim()}\n${material.keyPem.trim()}\n${material.caCertPem.trim()}\n`;
}

/** The file `service-key create` wrote: the service certificate, its key, then the CA's certificate. */
export function readServiceKeyFile(file: string): ServiceKeyMaterial {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `The service key file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}). Give the file \`opencloak service-key create --out\` wrote.`,
    });
  }
  const blocks = [...text.matchAll(BLOCK)];
  const certificates = blocks.filter((b) => b[1] === 'CERTIFICATE').map((b) => b[0]);
  const key = blocks.find((b) => b[1] === 'PRIVATE KEY')?.[0];
  if (certificates.length !== 2 || !key) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `${file} is not a service key file: it needs the service certificate, its PRIVATE KEY and the CA certificate, as \`opencloak service-key create --out\` writes them.`,
    });
  }
  return { certPem: certificates[0]!, keyPem: key, caCertPem: certificates[1]! };
}
