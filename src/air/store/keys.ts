// The registry of issued client keys: who owns each certificate, its type, expiry and revocation.
import type { ReadCache, SqlDb } from '../../store/index.ts';
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

/** Aliases are quoted: PostgreSQL folds unquoted names to lower case. */
const COLUMNS = `id, org_id AS "orgId", type, user_id AS "userId", description, serial,
  created_at AS "createdAt", expires_at AS "expiresAt", revoked_at AS "revokedAt", owner_id AS "ownerId"`;

export class KeyStore {
  constructor(
    private readonly db: SqlDb,
    private readonly cache?: ReadCache,
  ) {}

  async insert(key: ApiKeyRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO api_keys (id, org_id, type, user_id, description, serial, created_at, expires_at, revoked_at, owner_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        key.id,
        key.orgId,
        key.type,
        key.userId,
        key.description,
        key.serial,
        key.createdAt,
        key.expiresAt,
        key.revokedAt,
        key.ownerId,
      ],
    );
  }

  list(orgId: string): Promise<ApiKeyRecord[]> {
    return this.db.all(`SELECT ${COLUMNS} FROM api_keys WHERE org_id = ? ORDER BY created_at, id`, [
      orgId,
    ]);
  }

  get(orgId: string, id: string): Promise<ApiKeyRecord | undefined> {
    return this.db.get(`SELECT ${COLUMNS} FROM api_keys WHERE org_id = ? AND id = ?`, [orgId, id]);
  }

  bySerial(serial: string): Promise<ApiKeyRecord | undefined> {
    return this.db.get(`SELECT ${COLUMNS} FROM api_keys WHERE serial = ?`, [serial]);
  }

  /**
   * The owner's level is joined in, not copied into the key or its certificate: changing a
   * person's level changes what every key of theirs does from the next request on. An owner of
   * another organisation (or none) gives `untrusted`.
   */
  async #withLevel(serial: string): Promise<KeyWithLevel | undefined> {
    const row = await this.db.get<ApiKeyRecord & { accessLevel: AccessLevel | null }>(
      `SELECT ${COLUMNS}, (SELECT access_level FROM analysts
         WHERE analysts.id = api_keys.owner_id AND analysts.org_id = api_keys.org_id) AS "accessLevel"
       FROM api_keys WHERE serial = ?`,
      [serial],
    );
    if (!row) return undefined;
    return { ...row, accessLevel: row.accessLevel === 'trusted' ? 'trusted' : 'untrusted' };
  }

  /** Returns false when the key does not exist in that organisation (or is already revoked). */
  async revoke(orgId: string, id: string, now = Date.now()): Promise<boolean> {
    const { changes } = await this.db.run(
      'UPDATE api_keys SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL',
      [now, orgId, id],
    );
    return changes === 1;
  }

  /** Every revoked key of every organisation that has not yet expired: the CRL's entries. */
  revocations(now = Date.now()): Promise<Array<{ serial: string; revokedAt: number }>> {
    return this.db.all(
      `SELECT serial, revoked_at AS "revokedAt" FROM api_keys
         WHERE revoked_at IS NOT NULL AND expires_at > ? ORDER BY revoked_at, serial`,
      [now],
    );
  }

  /** Changes whenever a key is revoked, from any process: cheap enough to poll every second. */
  async revocationStamp(): Promise<string> {
    const row = await this.db.get<{ n: number; last: number | null }>(
      'SELECT count(*) AS n, max(revoked_at) AS last FROM api_keys WHERE revoked_at IS NOT NULL',
    );
    return `${row?.n ?? 0}:${row?.last ?? 0}`;
  }

  /**
   * Checked on every request, not only at the TLS handshake, so a revocation also stops clients
   * that hold an open keep-alive connection.
   */
  async status(
    serial: string,
    now = Date.now(),
  ): Promise<{ status: KeyStatus; key?: KeyWithLevel }> {
    // The cache drops the record on any write (a revocation or a level change included), from
    // any process.
    const key = this.cache
      ? await this.cache.get(`key:${serial}`, async () => (await this.#withLevel(serial)) ?? null)
      : await this.#withLevel(serial);
    if (!key) return { status: 'unknown' };
    if (key.revokedAt !== null) return { status: 'revoked', key };
    if (key.expiresAt <= now) return { status: 'expired', key };
    return { status: 'active', key };
  }
}
