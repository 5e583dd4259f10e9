// Organisations (tenants) and their analysts.
import { AppError } from '../../errors/index.ts';
import type { AccessLevel } from '../../shared/index.ts';
import { statementCache, type Db } from '../../store/index.ts';
import { randomToken } from './ids.ts';

export interface Organisation {
  id: string;
  name: string;
  createdAt: number;
}

/**
 * A person's role on the site; it decides what they may do, including which keys they may create
 * (key-policy.ts). A new role needs a migration too: air.db's CHECK constraint lists them.
 */
export const ROLES = ['analyst', 'data_owner', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Analyst {
  id: string;
  orgId: string;
  email: string;
  name: string;
  role: Role;
  /** Whether their runs skip the participation budget; only an admin changes it. */
  accessLevel: AccessLevel;
  createdAt: number;
}

const ANALYST_COLUMNS =
  'id, org_id AS orgId, email, name, role, access_level AS accessLevel, created_at AS createdAt';

const ORG_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,99}$/u;

export class OrganisationStore {
  private readonly sql: ReturnType<typeof statementCache>;

  /** `defaultAccessLevel` is privacy.defaultAccessLevel: the level of every person added. */
  constructor(
    db: Db,
    private readonly defaultAccessLevel: AccessLevel = 'untrusted',
  ) {
    this.sql = statementCache(db);
  }

  create(name: string, now = Date.now()): Organisation {
    if (!ORG_NAME.test(name)) {
      throw new AppError('INVALID_PARAMETER', {
        detail: `"${name}" is not a valid organisation name: use 1 to 100 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit.`,
      });
    }
    if (this.findByName(name)) throw new AppError('NAME_TAKEN', { what: 'organisation', name });
    const org = { id: randomToken(), name, createdAt: now };
    this.sql('INSERT INTO organisations (id, name, created_at) VALUES (?, ?, ?)').run(
      org.id,
      org.name,
      org.createdAt,
    );
    return org;
  }

  list(): Organisation[] {
    return this.sql(
      'SELECT id, name, created_at AS createdAt FROM organisations ORDER BY name',
    ).all() as Organisation[];
  }

  get(id: string): Organisation | undefined {
    return this.sql('SELECT id, name, created_at AS createdAt FROM organisations WHERE id = ?').get(
      id,
    ) as Organisation | undefined;
  }

  findByName(name: string): Organisation | undefined {
    return this.sql(
      'SELECT id, name, created_at AS createdAt FROM organisations WHERE name = ?',
    ).get(name) as Organisation | undefined;
  }

  /** Accepts an organisation's id or its name, as command-line users naturally type either. */
  resolve(idOrName: string): Organisation | undefined {
    return this.get(idOrName) ?? this.findByName(idOrName);
  }

  addAnalyst(
    orgId: string,
    email: string,
    name: string,
    now = Date.now(),
    role: Role = 'analyst',
  ): Analyst {
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
      throw new AppError('INVALID_PARAMETER', {
        detail: `"${email}" is not an e-mail address. Give the analyst's address, like ada@example.org.`,
      });
    }
    const exists = this.sql('SELECT 1 FROM analysts WHERE email = ?').get(email);
    if (exists) throw new AppError('NAME_TAKEN', { what: 'analyst with e-mail', name: email });
    const accessLevel = this.defaultAccessLevel;
    const analyst = { id: randomToken(), orgId, email, name, role, accessLevel, createdAt: now };
    this.sql(
      'INSERT INTO analysts (id, org_id, email, name, role, access_level, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(analyst.id, orgId, email, name, role, accessLevel, now);
    return analyst;
  }

  /** The stored hash is only ever compared, never returned by the API. */
  setPasswordHash(analystId: string, hash: string): void {
    this.sql('UPDATE analysts SET password_hash = ? WHERE id = ?').run(hash, analystId);
  }

  findLogin(email: string): (Analyst & { passwordHash: string | null }) | undefined {
    return this.sql(
      `SELECT ${ANALYST_COLUMNS}, password_hash AS passwordHash FROM analysts WHERE email = ?`,
    ).get(email) as (Analyst & { passwordHash: string | null }) | undefined;
  }

  analystByEmail(email: string): Analyst | undefined {
    return this.sql(`SELECT ${ANALYST_COLUMNS} FROM analysts WHERE email = ?`).get(email) as
      Analyst | undefined;
  }

  analyst(id: string): Analyst | undefined {
    return this.sql(`SELECT ${ANALYST_COLUMNS} FROM analysts WHERE id = ?`).get(id) as
      Analyst | undefined;
  }

  /** Returns false when there is no such analyst. */
  setRole(analystId: string, role: Role): boolean {
    return this.sql('UPDATE analysts SET role = ? WHERE id = ?').run(role, analystId).changes === 1;
  }

  /** Returns false when there is no such person. Callers audit the change (access-levels.ts). */
  setAccessLevel(analystId: string, level: AccessLevel): boolean {
    return (
      this.sql('UPDATE analysts SET access_level = ? WHERE id = ?').run(level, analystId)
        .changes === 1
    );
  }

  /**
   * The level a run gets from this person, read now: `untrusted` for nobody (a task or key the
   * CLI operator made), a person who is gone, or one of another organisation.
   */
  accessLevelOf(analystId: string | null, orgId: string): AccessLevel {
    if (analystId === null) return 'untrusted';
    const row = this.sql(
      'SELECT access_level AS level FROM analysts WHERE id = ? AND org_id = ?',
    ).get(analystId, orgId) as { level: AccessLevel } | undefined;
    return row?.level === 'trusted' ? 'trusted' : 'untrusted';
  }

  hasAdmin(): boolean {
    return this.sql("SELECT 1 FROM analysts WHERE role = 'admin' LIMIT 1").get() !== undefined;
  }

  listAnalysts(orgId: string): Analyst[] {
    return this.sql(`SELECT ${ANALYST_COLUMNS} FROM analysts WHERE org_id = ? ORDER BY email`).all(
      orgId,
    ) as Analyst[];
  }
}
