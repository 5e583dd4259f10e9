// Login sessions: random tokens kept only as hashes, a CSRF token each, idle and absolute expiry.
import { createHash, randomBytes } from 'node:crypto';
import { statementCache, type Db } from '../../store/index.ts';

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
  private readonly sql: ReturnType<typeof statementCache>;

  constructor(db: Db) {
    this.sql = statementCache(db);
  }

  /** Returns the token for the cookie; it is not stored anywhere in the clear. */
  create(analystId: string, now = Date.now()): { token: string; csrfToken: string } {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    this.sql(
      'INSERT INTO sessions (token_hash, analyst_id, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)',
    ).run(hashToken(token), analystId, csrfToken, now, now);
    return { token, csrfToken };
  }

  /** The live session for a cookie token, refreshed; an expired one is deleted and not returned. */
  touch(token: string, now = Date.now()): Session | undefined {
    const tokenHash = hashToken(token);
    const row = this.sql(
      'SELECT analyst_id AS analystId, csrf_token AS csrfToken, created_at AS createdAt, last_seen_at AS lastSeenAt FROM sessions WHERE token_hash = ?',
    ).get(tokenHash) as (Session & { lastSeenAt: number }) | undefined;
    if (!row) return undefined;
    if (now - row.lastSeenAt > SESSION_IDLE_MS || now - row.createdAt > SESSION_MAX_MS) {
      this.sql('DELETE FROM sessions WHERE token_hash = ?').run(tokenHash);
      return undefined;
    }
    this.sql('UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?').run(now, tokenHash);
    return { analystId: row.analystId, csrfToken: row.csrfToken, createdAt: row.createdAt };
  }

  delete(token: string): void {
    this.sql('DELETE FROM sessions WHERE token_hash = ?').run(hashToken(token));
  }
}
