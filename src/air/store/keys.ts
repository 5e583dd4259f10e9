// The registry of issued client keys: who owns each certificate, its type, expiry and revocation.
import { statementCache, type Db, type ReadCache } from '../../store/index.ts';
import type { AccessLevel, KeyType } from '../../shared/index.ts';

export interface ApiKeyRecord {
  id: string;
  orgId: string;
  type: KeyType;
  userId: string | null;
  description: string;
  serial: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  /** The person who created it, whose access level its runs get; null for the CLI operator's. */
  ownerId: string | null;
}

/** A key as authentication sees it: with its owner's access level as of this moment. */
export type KeyWithLevel = ApiKeyRecord & { accessLevel: AccessLevel };

export type KeyStatus = 'active' | 'revoked' | 'expired' | 'unknown';

const COLUMNS = `id, org_id AS orgId, type, user_id AS userId, description, serial,
  created_at AS createdAt, expires_at AS expiresAt, revoked_at AS revokedAt, owner_id AS ownerId`;

export class KeyStore {
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(
    db: Db,
    private readonly cache?: ReadCache,
  ) {
    this.sql = statementCache(db);
  }

  insert(key: ApiKeyRecord): void {
    this.sql(
      `INSERT INTO api_keys (id, org_id, type, user_id, description, serial, created_at, expires_at, revoked_at, owner_id)
         VALUES (@id, @orgId, @type, @userId, @description, @serial, @createdAt, @expiresAt, @revokedAt, @ownerId)`,
    ).run(key);
  }

  list(orgId: string): ApiKeyRecord[] {
    return this.sql(`SELECT ${COLUMNS} FROM api_keys WHERE org_id = ? ORDER BY created_at, id`).all(
      orgId,
    ) as ApiKeyRecord[];
  }

  get(orgId: string, id: string): ApiKeyRecord | undefined {
    return this.sql(`SELECT ${COLUMNS} FROM api_keys WHERE org_id = ? AND id = ?`).get(
      orgId,
      id,
    ) as ApiKeyRecord | undefined;
  }

  bySerial(serial: string): ApiKeyRecord | undefined {
    return this.sql(`SELECT ${COLUMNS} FROM api_keys WHERE serial = ?`).get(serial) as
      ApiKeyRecord | undefined;
  }

  /**
   * The owner's level is joined in, not copied into the key or its certificate: changing a
   * person's level changes what every key of theirs does from the next request on. An owner of
   * another organisation (or none) gives `untrusted`.
   */
  #withLevel(serial: string): KeyWithLevel | undefined {
    const row = this.sql(
      `SELECT ${COLUMNS}, (SELECT access_level FROM analysts
         WHERE analysts.id = api_keys.owner_id AND analysts.org_id = api_keys.org_id) AS accessLevel
       FROM api_keys WHERE serial = ?`,
    ).get(serial) as (ApiKeyRecord & { accessLevel: AccessLevel | null }) | undefined;
    if (!row) return undefined;
    return { ...row, accessLevel: row.accessLevel === 'trusted' ? 'trusted' : 'untrusted' };
  }

  /** Returns false when the key does not exist in that organisation (or is already revoked). */
  revoke(orgId: string, id: string, now = Date.now()): boolean {
    const info = this.sql(
      'UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL',
    ).run(now, orgId, id);
    return info.changes === 1;
  }

  /** Every revoked key of every organisation that has not yet expired: the CRL's entries. */
  revocations(now = Date.now()): Array<{ serial: string; revokedAt: number }> {
    return this.sql(
      `SELECT serial, revoked_at AS revokedAt FROM api_keys
         WHERE revoked_at IS NOT NULL AND expires_at > ? ORDER BY revoked_at, serial`,
    ).all(now) as Array<{ serial: string; revokedAt: number }>;
  }

  /** Changes whenever a key is revoked, from any process: cheap enough to poll every second. */
  revocationStamp(): string {
    const row = this.sql(
      'SELECT count(*) AS n, max(revoked_at) AS last FROM api_keys WHERE revoked_at IS NOT NULL',
    ).get() as { n: number; last: number | null };
    return `${row.n}:${row.last ?? 0}`;
  }

  /**
   * Checked on every request, not only at the TLS handshake, so a revocation also stops clients
   * that hold an open keep-alive connection.
   */
  status(serial: string, now = Date.now()): { status: KeyStatus; key?: KeyWithLevel } {
    // The cache drops the record on any write (a revocation or a level change included), from
    // any process.
    const key = this.cache
      ? this.cache.get(`key:${serial}`, () => this.#withLevel(serial) ?? null)
      : this.#withLevel(serial);
    if (!key) return { status: 'unknown' };
    if (key.revokedAt !== null) return { status: 'revoked', key };
    if (key.expiresAt <= now) return { status: 'expired', key };
    return { status: 'active', key };
  }
}
