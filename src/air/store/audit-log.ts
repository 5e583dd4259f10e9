// The audit log: keys, role and access-level changes, trusted runs with their code, logins, failed authentications.
import type { SqlDb } from '../../store/index.ts';

export const AUDIT_EVENTS = [
  'key.created',
  'key.refused',
  /** A table or column drop refused on the site for the person's role. */
  'table.erase_refused',
  'key.downloaded',
  'key.revoked',
  'role.changed',
  'access_level.changed',
  /** A site password set on the command line (`opencloak analyst set-password`), never the password. */
  'password.set',
  /** Every run at the trusted level, with its code and prefetch: the control that replaces the budget. */
  'task.run.trusted',
  'login.succeeded',
  'login.failed',
  'authentication.failed',
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

export interface AuditEntry {
  id: number;
  at: number;
  orgId: string | null;
  event: AuditEvent;
  /** Who acted: "cli", "key:<id>", "analyst:<id>", or "anonymous" for a failed authentication. */
  actor: string;
  detail: Record<string, string | number | null>;
}

/** Names that never enter the log, whatever a caller passes: the log must not hold secrets. */
const SECRET_FIELDS = /password|passphrase|secret|private|token|pfx|pem/i;

export class AuditLog {
  constructor(private readonly db: SqlDb) {}

  async record(entry: Omit<AuditEntry, 'id' | 'at'>, at = Date.now()): Promise<void> {
    const detail = Object.fromEntries(
      Object.entries(entry.detail).filter(([key]) => !SECRET_FIELDS.test(key)),
    );
    await this.db.run(
      'INSERT INTO audit_log (at, org_id, event, actor, detail) VALUES (?, ?, ?, ?, ?)',
      [at, entry.orgId, entry.event, entry.actor, JSON.stringify(detail)],
    );
  }

  /** Newest first; an organisation's entries, or every entry when orgId is undefined. */
  async list(orgId?: string, limit = 100): Promise<AuditEntry[]> {
    const columns = 'id, at, org_id AS "orgId", event, actor, detail';
    const rows = await this.db.all<Omit<AuditEntry, 'detail'> & { detail: string }>(
      orgId === undefined
        ? `SELECT ${columns} FROM audit_log ORDER BY id DESC LIMIT ?`
        : `SELECT ${columns} FROM audit_log WHERE org_id = ? ORDER BY id DESC LIMIT ?`,
      orgId === undefined ? [limit] : [orgId, limit],
    );
    return rows.map((row) => ({ ...row, detail: JSON.parse(row.detail) as AuditEntry['detail'] }));
  }
}
