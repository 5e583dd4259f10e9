// Person role x key type x endpoint: who may mint which key on the site, and what those keys reach.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_TYPES, type KeyType } from '../../src/shared/index.ts';
import { endpoints, orgWithTask } from '../support/endpoints.ts';
import type { TestKey, TestResponse } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import {
  analystSession,
  errorCode,
  loginToSite,
  type SiteClient,
} from '../support/site-session.ts';

type Role = 'analyst' | 'data_owner' | 'admin';

/** SPEC.md, Keys: written out here rather than read from the code, so the test pins the policy. */
const MAY_CREATE: Record<Role, readonly KeyType[]> = {
  analyst: ['web_api', 'task_runner'],
  data_owner: ['upload_any', 'upload_user'],
  admin: KEY_TYPES,
};
const ROLES = Object.keys(MAY_CREATE) as Role[];
const PASSWORD = 'role-key-password';

const keyBody = (type: KeyType) => ({
  type,
  description: `${type} key`,
  password: PASSWORD,
  ...(type === 'upload_user' ? { user_id: 'u1' } : {}),
});

describe('key types by role', () => {
  let inst: TestInstallation;
  let orgId: string;
  let task: string;
  let rootSite: SiteClient;
  const site = {} as Record<Role, SiteClient>;
  const personId = {} as Record<Role, string>;
  /** Every role's attempt at every type, made once, before the tests read them. */
  const attempts: Array<{ role: Role; type: KeyType; answer: TestResponse; created: number }> = [];
  /** The keys each role managed to mint, whatever the policy says: what an attacker would hold. */
  const minted = {} as Record<Role, Partial<Record<KeyType, TestKey>>>;

  beforeAll(async () => {
    inst = await startTestInstallation();
    const first = inst.platform.initialAdmin!;
    rootSite = await loginToSite(inst, first.email, first.password);
    ({ orgId, task } = await orgWithTask(inst, 'Roles'));
    for (const role of ROLES) {
      const email = `${role}@roles.test`;
      site[role] = await analystSession(inst, rootSite, orgId, email, role);
      personId[role] = (await inst.platform.air.organisations.analystByEmail(email))!.id;
      minted[role] = {};
    }
    for (const role of ROLES) {
      for (const type of KEY_TYPES) {
        const before = (await inst.platform.air.keys.list(orgId)).length;
        const answer = await site[role]('/api/site/keys', { body: keyBody(type) });
        const created = (await inst.platform.air.keys.list(orgId)).length - before;
        attempts.push({ role, type, answer, created });
        if (answer.status === 201) {
          const pfx = Buffer.from(answer.json.pfx_base64 as string, 'base64');
          minted[role][type] = { pfx, passphrase: PASSWORD };
        }
      }
    }
  });
  afterAll(() => inst.stop());

  it('lets each role create exactly its key types; a refusal is a 403 that creates nothing and is audited', async () => {
    expect(attempts).toHaveLength(ROLES.length * KEY_TYPES.length);
    for (const { role, type, answer, created } of attempts) {
      const cell = `${role} creates ${type}: ${answer.status}`;
      if (MAY_CREATE[role].includes(type)) {
        expect(answer.status, cell).toBe(201);
        expect(created, cell).toBe(1);
      } else {
        expect(answer.status, cell).toBe(403);
        expect(errorCode(answer), cell).toBe('KEY_TYPE_NOT_ALLOWED');
        expect(answer.json.error, cell).toContain(`(${role}) may not create ${type} keys`);
        expect(answer.json.error, cell).toContain('Ask an admin');
        expect(answer.json, cell).not.toHaveProperty('pfx_base64');
        expect(created, cell).toBe(0);
      }
    }

    const refused = await (
      await inst.platform.air.audit.list(orgId, 1000)
    )
      .filter((e) => e.event === 'key.refused')
      .map((e) => `${e.actor} ${e.detail.role} ${e.detail.type}`)
      .sort();
    const expected = ROLES.flatMap((role) =>
      KEY_TYPES.filter((type) => !MAY_CREATE[role].includes(type)).map(
        (type) => `analyst:${personId[role]} ${role} ${type}`,
      ),
    ).sort();
    expect(refused).toEqual(expected);
    expect(JSON.stringify(await inst.platform.air.audit.list(orgId, 1000))).not.toContain(PASSWORD);
  });

  it('tells the site which types each role may create, for the key form', async () => {
    for (const role of ROLES) {
      const session = await site[role]('/auth/session');
      expect(session.json.user.key_types, role).toEqual(MAY_CREATE[role]);
    }
  });

  it('lets the keys a role can mint reach only the endpoints of those types (role x type x endpoint)', async () => {
    const reached = {} as Record<Role, Set<string>>;
    for (const role of ROLES) {
      reached[role] = new Set();
      for (const [type, key] of Object.entries(minted[role]) as Array<[KeyType, TestKey]>) {
        // One kept-alive connection per key and server: the handshake is the slow part here.
        const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: inst.ca, ...key });
        for (const e of endpoints(task)) {
          const { status } = await inst[e.api](e.path, {
            method: e.method,
            ...(e.body !== undefined ? { body: e.body } : {}),
            agent,
          });
          const cell = `${role}'s ${type} key on ${e.method} ${e.path}: ${status}`;
          if (type === e.allowed) {
            expect(status, cell).not.toBe(401);
            expect(status, cell).toBeLessThan(500);
            reached[role].add(`${e.method} ${e.path}`);
          } else {
            expect(status, cell).toBe(401);
          }
        }
        agent.destroy();
      }
    }
    const reachableWith = (types: readonly KeyType[]) =>
      endpoints(task)
        .filter((e) => types.includes(e.allowed))
        .map((e) => `${e.method} ${e.path}`)
        .sort();
    for (const role of ROLES)
      expect([...reached[role]].sort()).toEqual(reachableWith(MAY_CREATE[role]));
    // The attacks of the issue: accomplice users, a row in a real user, erasing a user's rows.
    for (const attack of [
      'POST /bulk_insert',
      'POST /insert',
      'DELETE /users/u1',
      'POST /tables',
    ]) {
      expect(reached.analyst.has(attack), attack).toBe(false);
    }
    expect(reached.data_owner.has('DELETE /users/u1')).toBe(false);
  });

  it('applies a role change made by an admin at once, and audits it', async () => {
    const person = personId.analyst;
    const refusedFirst = await site.analyst('/api/site/keys', { body: keyBody('upload_any') });
    expect(refusedFirst.status).toBe(403);
    const changed = await rootSite(`/api/site/admin/users/${person}/role`, {
      method: 'PUT',
      body: { role: 'data_owner' },
    });
    expect(changed.json.user).toMatchObject({ id: person, role: 'data_owner' });
    expect((await site.analyst('/api/site/keys', { body: keyBody('upload_any') })).status).toBe(
      201,
    );
    expect((await site.analyst('/api/site/keys', { body: keyBody('web_api') })).status).toBe(403);
    const [entry] = await (
      await inst.platform.air.audit.list(orgId, 1000)
    ).filter((e) => e.event === 'role.changed');
    expect(entry).toMatchObject({ detail: { user: person, from: 'analyst', to: 'data_owner' } });

    const analystOnly = await site.data_owner('/api/site/admin/users');
    expect(errorCode(analystOnly)).toBe('ADMIN_REQUIRED');
    const selfPromotion = await site.data_owner(
      `/api/site/admin/users/${personId.data_owner}/role`,
      {
        method: 'PUT',
        body: { role: 'admin' },
      },
    );
    expect(errorCode(selfPromotion)).toBe('ADMIN_REQUIRED');
  });
});
