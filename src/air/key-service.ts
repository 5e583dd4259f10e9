// Issues client keys to an organisation: certificate, registry entry, and the password-protected files.
import { AppError, withArticle } from '../errors/index.ts';
import {
  issueClientCertificate,
  MIN_KEY_PASSWORD_LENGTH,
  toEncryptedPem,
  toPkcs12,
  type CertificateAndKey,
} from '../pki/index.ts';
import { KEY_TYPES, type KeyType } from '../shared/index.ts';
import { keyTypesFor, mayCreateKey, rolesThatMayCreate } from './key-policy.ts';
import { randomToken } from './store/ids.ts';
import type { AirStore, ApiKeyRecord, Role } from './store/index.ts';

export interface NewKeyRequest {
  type: string;
  description: string;
  password: string;
  /** Required for, and only for, a one-user upload key. */
  userId?: string;
  /** 3DES instead of AES-256 in the .pfx, for old keychains. */
  legacyPkcs12?: boolean;
}

export interface IssuedKey {
  record: ApiKeyRecord;
  pfx: Buffer;
  pem: string;
}

/**
 * Who asks for a key: their name in the audit log, the role the key policy checks, and the person
 * whose access level the key's runs get (looked up at each request, never written into the key).
 */
export interface KeyCreator {
  actor: string;
  role: Role;
  /** Absent for the CLI operator: such keys run untrusted. */
  personId?: string;
  /**
   * The e-mail of the person the key is for, where someone else asks for it (the CLI's `--for`):
   * a refusal then names them and their role, not "your role".
   */
  holder?: string;
}

/**
 * The CLI's operator works on the data directory itself, CA key and cloak.db included, so
 * nothing a role could withhold is out of their reach: they act as an admin.
 */
export const OPERATOR: KeyCreator = Object.freeze({ actor: 'cli', role: 'admin' });

const DAY_MS = 86_400_000;

export class KeyService {
  readonly #revocationListeners: Array<() => unknown> = [];

  constructor(
    private readonly store: AirStore,
    private readonly ca: CertificateAndKey,
    private readonly validDays: number,
  ) {}

  /** The password only encrypts the returned files; it is never stored. */
  async create(
    orgId: string,
    request: NewKeyRequest,
    by = OPERATOR,
    now = Date.now(),
  ): Promise<IssuedKey> {
    const type = checkType(request.type);
    // Checked before anything else about the request, so a refusal issues and stores nothing.
    await this.#checkRole(orgId, type, by);
    if (typeof request.password !== 'string' || request.password.length < MIN_KEY_PASSWORD_LENGTH) {
      throw new AppError('INVALID_KEY_PASSWORD', { min: MIN_KEY_PASSWORD_LENGTH });
    }
    const description = (request.description ?? '').trim();
    if (description.length === 0 || description.length > 200) {
      throw new AppError('INVALID_PARAMETER', {
        detail: 'A key needs a description of 1 to 200 characters saying what it is for.',
      });
    }
    const userId = checkUserId(type, request.userId);
    const keyId = randomToken();
    const issued = issueClientCertificate(
      this.ca,
      { orgId, keyType: type, keyId, ...(userId !== undefined ? { userId } : {}) },
      { validDays: this.validDays },
    );
    const record: ApiKeyRecord = {
      id: keyId,
      orgId,
      type,
      userId: userId ?? null,
      description,
      serial: issued.serial,
      createdAt: now,
      expiresAt: Math.min(issued.notAfter.getTime(), now + this.validDays * DAY_MS),
      revokedAt: null,
      ownerId: by.personId ?? null,
    };
    const material = { certPem: issued.certPem, keyPem: issued.keyPem, caCertPem: this.ca.certPem };
    // Exported before the record is saved: a password the export refuses leaves no orphan key.
    let pfx: Buffer;
    let pem: string;
    try {
      pfx = toPkcs12(material, request.password, { legacy: request.legacyPkcs12 === true });
      pem = toEncryptedPem(material, request.password);
    } catch (error) {
      // The PKI refuses passwords no client could use (NUL, over 1023 bytes) with a RangeError.
      if (error instanceof RangeError)
        throw new AppError('INVALID_PARAMETER', { detail: error.message });
      throw error;
    }
    await this.store.keys.insert(record);
    await this.store.audit.record({
      orgId,
      event: 'key.created',
      actor: by.actor,
      detail: { key: record.id, type, description },
    });
    return { record, pfx, pem };
  }

  async #checkRole(orgId: string, type: KeyType, by: KeyCreator): Promise<void> {
    if (mayCreateKey(by.role, type)) return;
    await this.store.audit.record({
      orgId,
      event: 'key.refused',
      actor: by.actor,
      detail: { type, role: by.role },
    });
    const allowedRoles = rolesThatMayCreate(type).join(' or ');
    const types = keyTypesFor(by.role).join(', ');
    if (by.holder !== undefined) {
      throw new AppError('KEY_TYPE_NOT_ALLOWED_FOR_PERSON', {
        person: by.holder,
        role: by.role,
        type,
        allowedRoles,
        theirTypes: types,
      });
    }
    throw new AppError('KEY_TYPE_NOT_ALLOWED', {
      role: by.role,
      type,
      allowedRoles,
      yourTypes: types,
    });
  }

  /** Takes effect on the next request of any connection (the status is checked per request). */
  async revoke(orgId: string, keyId: string, actor = 'cli'): Promise<boolean> {
    const revoked = await this.store.keys.revoke(orgId, keyId);
    if (revoked) {
      await this.store.audit.record({ orgId, event: 'key.revoked', actor, detail: { key: keyId } });
      for (const listener of this.#revocationListeners) listener();
    }
    return revoked;
  }

  /** Called after each revocation, e.g. to re-sign the CRL that the TLS layer checks. */
  onRevoked(listener: () => unknown): void {
    this.#revocationListeners.push(listener);
  }
}

function checkType(type: string): KeyType {
  if (!(KEY_TYPES as readonly string[]).includes(type)) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `"${type}" is not a key type. Use one of: ${KEY_TYPES.join(', ')}.`,
    });
  }
  return type as KeyType;
}

function checkUserId(type: KeyType, userId: string | undefined): string | undefined {
  if (type === 'upload_user') {
    if (!userId || userId.length > 200) {
      throw new AppError('INVALID_PARAMETER', {
        detail: "An upload_user key is for one user: give that user's id (1 to 200 characters).",
      });
    }
    return userId;
  }
  if (userId !== undefined) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `Only upload_user keys name a user; ${withArticle(type)} key cannot. Leave out the user id.`,
    });
  }
  return undefined;
}
