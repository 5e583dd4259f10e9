// Analyst web site: table definitions (through the CloakPort) and their anonymized user counts.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../../../errors/index.ts';
import type { CloakPort } from '../../cloak-port.ts';
import { erasesData, mayEraseData, ROLES_THAT_MAY_ERASE } from '../../data-policy.ts';
import type { AirStore } from '../../store/index.ts';
import { actorOf, analystOf } from './session-scope.ts';

export const siteTableRoutes: FastifyPluginAsync<{ cloak: CloakPort; store: AirStore }> = async (
  app,
  { cloak, store },
) => {
  type Named = { Params: { name: string } };

  /** Refuses (and audits) a change that erases rows, before the cloak is asked anything. */
  const checkErase = async (request: FastifyRequest, table: string, what: string) => {
    const { orgId, role } = analystOf(request);
    if (mayEraseData(role)) return;
    await store.audit.record({
      orgId,
      event: 'table.erase_refused',
      actor: actorOf(request),
      detail: { table, what, role },
    });
    throw new AppError('DATA_ERASE_NOT_ALLOWED', {
      role,
      what,
      allowedRoles: ROLES_THAT_MAY_ERASE.join(' or '),
    });
  };

  app.get('/api/site/tables', async (request) => ({
    success: true,
    tables: await cloak.listTables(analystOf(request).orgId),
  }));

  // A run per table, anonymized like any result: a suppressed count is null.
  app.get('/api/site/tables/counts', async (request) => ({
    success: true,
    counts: await cloak.userCounts(analystOf(request).orgId),
  }));

  app.post('/api/site/tables', async (request, reply) => {
    const table = await cloak.defineTable(analystOf(request).orgId, request.body);
    return reply.status(201).send({ success: true, table });
  });

  app.patch<Named>('/api/site/tables/:name', async (request) => {
    if (erasesData(request.body)) await checkErase(request, request.params.name, 'drop columns');
    return {
      success: true,
      table: await cloak.alterTable(analystOf(request).orgId, request.params.name, request.body),
    };
  });

  app.delete<Named>('/api/site/tables/:name', async (request) => {
    await checkErase(request, request.params.name, 'drop tables');
    await cloak.dropTable(analystOf(request).orgId, request.params.name);
    return { success: true };
  });
};
