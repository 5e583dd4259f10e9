// Analyst web site, admins only: organisations, users with their roles and access levels, the audit log.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../../errors/index.ts';
import { parseBody } from '../../../http/index.ts';
import { ACCESS_LEVELS } from '../../../shared/index.ts';
import { setAccessLevel } from '../../access-levels.ts';
import { hashPassword, MIN_LOGIN_PASSWORD_LENGTH } from '../../auth/password-hash.ts';
import { ROLES, type Analyst, type AirStore, type Organisation } from '../../store/index.ts';
import { actorOf, requireAdmin } from './session-scope.ts';

const newOrgBody = z.strictObject({ name: z.string() });
const newUserBody = z.strictObject({
  org_id: z.string().min(1),
  email: z.string().min(3).max(320),
  name: z.string().min(1).max(200),
  role: z.enum(ROLES).default('analyst'),
  /** Absent: privacy.defaultAccessLevel. */
  access_level: z.enum(ACCESS_LEVELS).optional(),
  password: z
    .string()
    .min(MIN_LOGIN_PASSWORD_LENGTH, `use at least ${MIN_LOGIN_PASSWORD_LENGTH} characters`)
    .max(1024),
});
const roleBody = z.strictObject({ role: z.enum(ROLES) });
const accessLevelBody = z.strictObject({ access_level: z.enum(ACCESS_LEVELS) });
const auditQuery = z.strictObject({
  org_id: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const toSiteOrg = (org: Organisation) => ({
  id: org.id,
  name: org.name,
  created_at: org.createdAt,
});
const toSiteUser = (a: Analyst) => ({
  id: a.id,
  org_id: a.orgId,
  email: a.email,
  name: a.name,
  role: a.role,
  access_level: a.accessLevel,
  created_at: a.createdAt,
});

/**
 * Admins run the installation: they see every organisation, its users and the whole audit log.
 * Analysts get ADMIN_REQUIRED here and only ever see their own organisation elsewhere.
 */
export const siteAdminRoutes: FastifyPluginAsync<{ store: AirStore }> = async (app, { store }) => {
  app.addHook('preHandler', requireAdmin);
  const orgs = store.organisations;
  const requireOrg = async (id: string) => {
    const org = await orgs.get(id);
    if (!org) throw new AppError('ORGANISATION_NOT_FOUND', { organisation: id });
    return org;
  };

  app.get('/api/site/admin/organisations', async () => ({
    success: true,
    organisations: (await orgs.list()).map(toSiteOrg),
  }));

  app.post('/api/site/admin/organisations', async (request, reply) => {
    const org = await orgs.create(parseBody(newOrgBody, request.body).name.trim());
    return reply.status(201).send({ success: true, organisation: toSiteOrg(org) });
  });

  app.get('/api/site/admin/users', async () => ({
    success: true,
    users: (await Promise.all((await orgs.list()).map((org) => orgs.listAnalysts(org.id)))).flatMap(
      (people) => people.map(toSiteUser),
    ),
  }));

  app.post('/api/site/admin/users', async (request, reply) => {
    const body = parseBody(newUserBody, request.body);
    const org = await requireOrg(body.org_id);
    const user = await orgs.addAnalyst(
      org.id,
      body.email.trim(),
      body.name.trim(),
      Date.now(),
      body.role,
    );
    await orgs.setPasswordHash(user.id, await hashPassword(body.password));
    const created =
      body.access_level !== undefined && body.access_level !== user.accessLevel
        ? await setAccessLevel(store, user.id, body.access_level, actorOf(request))
        : user;
    return reply.status(201).send({ success: true, user: toSiteUser(created) });
  });

  app.put<{ Params: { id: string } }>('/api/site/admin/users/:id/role', async (request) => {
    const { role } = parseBody(roleBody, request.body);
    const before = await orgs.analyst(request.params.id);
    if (!before || !(await orgs.setRole(before.id, role))) {
      throw new AppError('ANALYST_NOT_FOUND', { user: request.params.id });
    }
    await store.audit.record({
      orgId: before.orgId,
      event: 'role.changed',
      actor: actorOf(request),
      detail: { user: before.id, from: before.role, to: role },
    });
    return { success: true, user: toSiteUser((await orgs.analyst(request.params.id))!) };
  });

  // Installation admins only (this plugin's hook): nobody else, the person included, can change
  // a level. Takes effect on the next request of every key and session of theirs.
  app.put<{ Params: { id: string } }>('/api/site/admin/users/:id/access_level', async (request) => {
    const { access_level: level } = parseBody(accessLevelBody, request.body);
    const user = await setAccessLevel(store, request.params.id, level, actorOf(request));
    return { success: true, user: toSiteUser(user) };
  });

  app.get('/api/site/admin/audit', async (request) => {
    const query = parseBody(auditQuery, request.query);
    if (query.org_id !== undefined) await requireOrg(query.org_id);
    return {
      success: true,
      entries: (await store.audit.list(query.org_id, query.limit)).map((e) => ({
        id: e.id,
        at: e.at,
        org_id: e.orgId,
        event: e.event,
        actor: e.actor,
        detail: e.detail,
      })),
    };
  });
};
