// Login sessions: random tokens kept only as hashes, a CSRF token each, idle and absolute expiry.
import { createHash, randomBytes } from 'node:crypto';
import type { SqlDb } from '../../store/index.ts';

export const SESSION_IDLE_MS = 12 * 3600_000;
export const SESSION_MAX_MS = 7 * 24 * 3600_000;

export interface Session {
  analystId: string;
  csrfToken: string;
  createdAt: number;
}

/** A stolen database does not yield usable sessions: only SHA-256 of each token is stored. */
function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class SessionStore {
  constructor(private readonly db: SqlDb) {}

  /** Returns the token for the cookie; it is not stored anywhere in the clear. */
  async create(analystId: string, now = Date.now()): Promise<{ token: string; csrfToken: string }> {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    await this.db.run(
      'INSERT INTO sessions (token_hash, analyst_id, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)',
      [hashToken(token), analystId, csrfToken, now, now],
    );
    return { token, csrfToken };
  }

  /** The live session for a cookie token, refreshed; an expired one is deleted and not returned. */
  async touch(token: string, now = Date.now()): Promise<Session | undefined> {
    const tokenHash = hashToken(token);
    const row = await this.db.get<Session & { lastSeenAt: number }>(
      `SELECT analyst_id AS "analystId", csrf_token AS "csrfToken", created_at AS "createdAt",
         last_seen_at AS "lastSeenAt" FROM sessions WHERE token_hash = ?`,
      [tokenHash],
    );
    if (!row) return undefined;
    if (now - row.lastSeenAt > SESSION_IDLE_MS || now - row.createdAt > SESSION_MAX_MS) {
      await this.db.run('DELETE FROM sessions WHERE token_hash = ?', [tokenHash]);
      return undefined;
    }
    await this.db.run('UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?', [
      now,
      tokenHash,
    ]);
    return { analystId: row.analystId, csrfToken: row.csrfToken, createdAt: row.createdAt };
  }

  async delete(token: string): Promise<void> {
    await this.db.run('DELETE FROM sessions WHERE token_hash = ?', [hashToken(token)]);
  }
}
