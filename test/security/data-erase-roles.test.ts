// Person role x table change on the site: analysts define tables and add columns, but only data owners and admins erase rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import {
  analystSession,
  errorCode,
  loginToSite,
  type SiteClient,
} from '../support/site-session.ts';

type Role = 'analyst' | 'data_owner' | 'admin';
/** SPEC.md, Keys: no analyst can upload or change data; written out here to pin the policy. */
const MAY_ERASE: Record<Role, boolean> = { analyst: false, data_owner: true, admin: true };
const ROLES = Object.keys(MAY_ERASE) as Role[];

describe('erasing data on the site, by role', () => {
  let inst: TestInstallation;
  let orgId: string;
  const site = {} as Record<Role, SiteClient>;
  const rowsOf = (table: string) => inst.platform.cloak.data.sync!.rowCount(orgId, table);

  beforeAll(async () => {
    inst = await startTestInstallation();
    const first = inst.platform.initialAdmin!;
    const root = await loginToSite(inst, first.email, first.password);
    orgId = await inst.createOrg('Erase');
    for (const role of ROLES)
      site[role] = await analystSession(inst, root, orgId, `${role}@erase.test`, role);
  });
  afterAll(() => inst.stop());

  /** A table of `role` with two columns and some rows to protect. */
  const tableWithRows = async (role: Role) => {
    const name = `t_${role}`;
    const created = await site[role]('/api/site/tables', {
      body: {
        name,
        columns: [
          { name: 'x', type: 'integer' },
          { name: 'y', type: 'integer' },
        ],
      },
    });
    expect(created.status, created.text).toBe(201);
    await inst.platform.cloak.data.insert(orgId, {
      u1: {
        [name]: [
          { x: 1, y: 2 },
          { x: 3, y: 4 },
        ],
      },
    });
    return name;
  };

  it.each(ROLES)('lets a %s define tables and add columns, which erase nothing', async (role) => {
    const name = await tableWithRows(role);
    const added = await site[role](`/api/site/tables/${name}`, {
      method: 'PATCH',
      body: { add: [{ name: 'z', type: 'text' }] },
    });
    expect(added.status, added.text).toBe(200);
    expect(rowsOf(name)).toBe(2);
  });

  it.each(ROLES)(
    'lets a %s drop columns and tables only if the role may erase data',
    async (role) => {
      const name = `t_${role}`;
      const audit = inst.platform.air.audit;
      const last = (await audit.list(orgId, 1))[0]?.id ?? 0;
      const dropColumn = await site[role](`/api/site/tables/${name}`, {
        method: 'PATCH',
        body: { drop: ['y'] },
      });
      const dropTable = await site[role](`/api/site/tables/${name}`, { method: 'DELETE' });
      const refused = await (
        await audit.list(orgId, 1000)
      ).filter((e) => e.id > last && e.event === 'table.erase_refused');
      if (MAY_ERASE[role]) {
        expect(dropColumn.status, dropColumn.text).toBe(200);
        expect(dropTable.status, dropTable.text).toBe(200);
        expect(await inst.platform.cloak.data.getTable(orgId, name)).toBeUndefined();
        expect(refused).toHaveLength(0);
      } else {
        expect(errorCode(dropColumn)).toBe('DATA_ERASE_NOT_ALLOWED');
        expect(errorCode(dropTable)).toBe('DATA_ERASE_NOT_ALLOWED');
        expect(dropTable.status).toBe(403);
        // Nothing changed: both columns and every row are still there, and both refusals are logged.
        expect(
          (await inst.platform.cloak.data.getTable(orgId, name))?.columns.map((c) => c.name),
        ).toEqual(['x', 'y', 'z']);
        expect(rowsOf(name)).toBe(2);
        expect(refused.map((e) => e.detail)).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ table: name, what: 'drop columns', role }),
            expect.objectContaining({ table: name, what: 'drop tables', role }),
          ]),
        );
      }
    },
  );

  it('tells the site which roles may erase, for its drop buttons', async () => {
    for (const role of ROLES) {
      const session = await site[role]('/auth/session');
      expect(session.json.user.may_erase_data).toBe(MAY_ERASE[role]);
    }
  });
});
