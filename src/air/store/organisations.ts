// Organisations (tenants) and their analysts.
import { AppError } from '../../errors/index.ts';
import type { AccessLevel, Role } from '../../shared/index.ts';
import type { SqlDb } from '../../store/index.ts';
import { equalsIgnoringCase, isUniqueViolation } from './dialect.ts';
import { randomToken } from './ids.ts';

export interface Organisation {
  id: string;
  name: string;
  createdAt: number;
}

export { ROLES, type Role } from '../../shared/index.ts';

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

/** Aliases are quoted: PostgreSQL folds unquoted names to lower case. */
const ANALYST_COLUMNS =
  'id, org_id AS "orgId", email, name, role, access_level AS "accessLevel", created_at AS "createdAt"';

const ORG_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,99}$/u;

export class OrganisationStore {
  /** `defaultAccessLevel` is privacy.defaultAccessLevel: the level of every person added. */
  constructor(
    private readonly db: SqlDb,
    private readonly defaultAccessLevel: AccessLevel = 'untrusted',
  ) {}

  async create(name: string, now = Date.now()): Promise<Organisation> {
    if (!ORG_NAME.test(name)) {
      throw new AppError('INVALID_PARAMETER', {
        detail: `"${name}" is not a valid organisation name: use 1 to 100 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit.`,
      });
    }
    const taken = () => new AppError('NAME_TAKEN', { what: 'organisation', name });
    if (await this.findByName(name)) throw taken();
    const org = { id: randomToken(), name, createdAt: now };
    try {
      await this.db.run('INSERT INTO organisations (id, name, created_at) VALUES (?, ?, ?)', [
        org.id,
        org.name,
        org.createdAt,
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw taken();
      throw error;
    }
    return org;
  }

  list(): Promise<Organisation[]> {
    return this.db.all(
      'SELECT id, name, created_at AS "createdAt" FROM organisations ORDER BY name',
    );
  }

  get(id: string): Promise<Organisation | undefined> {
    return this.db.get(
      'SELECT id, name, created_at AS "createdAt" FROM organisations WHERE id = ?',
      [id],
    );
  }

  findByName(name: string): Promise<Organisation | undefined> {
    return this.db.get(
      `SELECT id, name, created_at AS "createdAt" FROM organisations
         WHERE ${equalsIgnoringCase(this.db.dialect, 'name')}`,
      [name],
    );
  }

  /** Accepts an organisation's id or its name, as command-line users naturally type either. */
  async resolve(idOrName: string): Promise<Organisation | undefined> {
    return (await this.get(idOrName)) ?? (await this.findByName(idOrName));
  }

  async addAnalyst(
    orgId: string,
    email: string,
    name: string,
    now = Date.now(),
    role: Role = 'analyst',
  ): Promise<Analyst> {
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
      throw new AppError('INVALID_PARAMETER', {
        detail: `"${email}" is not an e-mail address. Give the analyst's address, like ada@example.org.`,
      });
    }
    const taken = () => new AppError('NAME_TAKEN', { what: 'analyst with e-mail', name: email });
    if (await this.analystByEmail(email)) throw taken();
    const accessLevel = this.defaultAccessLevel;
    const analyst = { id: randomToken(), orgId, email, name, role, accessLevel, createdAt: now };
    try {
      await this.db.run(
        'INSERT INTO analysts (id, org_id, email, name, role, access_level, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [analyst.id, orgId, email, name, role, accessLevel, now],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw taken();
      throw error;
    }
    return analyst;
  }

  /** The stored hash is only ever compared, never returned by the API. */
  async setPasswordHash(analystId: string, hash: string): Promise<void> {
    await this.db.run('UPDATE analysts SET password_hash = ? WHERE id = ?', [hash, analystId]);
  }

  findLogin(email: string): Promise<(Analyst & { passwordHash: string | null }) | undefined> {
    return this.db.get(
      `SELECT ${ANALYST_COLUMNS}, password_hash AS "passwordHash" FROM analysts
         WHERE ${equalsIgnoringCase(this.db.dialect, 'email')}`,
      [email],
    );
  }

  analystByEmail(email: string): Promise<Analyst | undefined> {
    return this.db.get(
      `SELECT ${ANALYST_COLUMNS} FROM analysts WHERE ${equalsIgnoringCase(this.db.dialect, 'email')}`,
      [email],
    );
  }

  analyst(id: string): Promise<Analyst | undefined> {
    return this.db.get(`SELECT ${ANALYST_COLUMNS} FROM analysts WHERE id = ?`, [id]);
  }

  /** Returns false when there is no such analyst. */
  async setRole(analystId: string, role: Role): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE analysts SET role = ? WHERE id = ?', [
      role,
      analystId,
    ]);
    return changes === 1;
  }

  /** Returns false when there is no such person. Callers audit the change (access-levels.ts). */
  async setAccessLevel(analystId: string, level: AccessLevel): Promise<boolean> {
    const { changes } = await this.db.run('UPDATE analysts SET access_level = ? WHERE id = ?', [
      level,
      analystId,
    ]);
    return changes === 1;
  }

  /**
   * The level a run gets from this person, read now: `untrusted` for nobody (a task or key the
   * CLI operator made), a person who is gone, or one of another organisation.
   */
  async accessLevelOf(analystId: string | null, orgId: string): Promise<AccessLevel> {
    if (analystId === null) return 'untrusted';
    const row = await this.db.get<{ level: AccessLevel }>(
      'SELECT access_level AS level FROM analysts WHERE id = ? AND org_id = ?',
      [analystId, orgId],
    );
    return row?.level === 'trusted' ? 'trusted' : 'untrusted';
  }

  async hasAdmin(): Promise<boolean> {
    return (
      (await this.db.get("SELECT 1 AS one FROM analysts WHERE role = 'admin' LIMIT 1")) !==
      undefined
    );
  }

  listAnalysts(orgId: string): Promise<Analyst[]> {
    return this.db.all(`SELECT ${ANALYST_COLUMNS} FROM analysts WHERE org_id = ? ORDER BY email`, [
      orgId,
    ]);
  }
}
