// Reads a client's identity back from the certificate Node's TLS layer hands to the server.
import type { PeerCertificate } from 'node:tls';
import { KEY_TYPES, type KeyType } from '../shared/index.ts';
import type { ClientIdentity } from './types.ts';
import { normalizeSerial } from './x509.ts';

const SUBJECT_FIELDS = new Set(['O', 'OU', 'CN', 'UID']);

/**
 * Parsing only: the caller must also require `socket.authorized`, which is what proves the
 * certificate came from our CA. Anything we would not have issued yields undefined. Node turns a
 * repeated attribute into an array, so a non-string value is rejected too.
 */
export function identityFromPeerCertificate(cert: PeerCertificate): ClientIdentity | undefined {
  const subject = (cert as Partial<PeerCertificate> | undefined)?.subject as unknown;
  if (typeof subject !== 'object' || subject === null) return undefined;
  const fields = subject as Record<string, unknown>;
  if (Object.keys(fields).some((k) => !SUBJECT_FIELDS.has(k))) return undefined;
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const orgId = text(fields.O);
  const keyType = text(fields.OU);
  const keyId = text(fields.CN);
  const userId = text(fields.UID);
  const serial =
    typeof cert.serialNumber === 'string' ? normalizeSerial(cert.serialNumber) : undefined;
  if (!orgId || !keyId || !serial || !isKeyType(keyType)) return undefined;
  if ((keyType === 'upload_user') !== 'UID' in fields) return undefined;
  if (keyType === 'upload_user') {
    return userId === undefined ? undefined : { orgId, keyType, keyId, userId, serial };
  }
  return { orgId, keyType, keyId, serial };
}

function isKeyType(value: string | undefined): value is KeyType {
  return value !== undefined && (KEY_TYPES as readonly string[]).includes(value);
}
