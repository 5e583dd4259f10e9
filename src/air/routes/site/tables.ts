// Analyst web site: table definitions (through the CloakPort) and their anonymized user counts.
import type { FastifyPluginAsync } from 'fastify';
import type { CloakPort } from '../../cloak-port.ts';
import { analystOf } from './session-scope.ts';

export const siteTableRoutes: FastifyPluginAsync<{ cloak: CloakPort }> = async (app, { cloak }) => {
  type Named = { Params: { name: string } };

  app.get('/api/site/tables', async (request) => ({
    success: true,
    tables: cloak.listTables(analystOf(request).orgId),
  }));

  // A run per table, anonymized like any result: a suppressed count is null.
  app.get('/api/site/tables/counts', async (request) => ({
    success: true,
    counts: await cloak.userCounts(analystOf(request).orgId),
  }));

  app.post('/api/site/tables', async (request, reply) => {
    const table = cloak.defineTable(analystOf(request).orgId, request.body);
    return reply.status(201).send({ success: true, table });
  });

  app.patch<Named>('/api/site/tables/:name', async (request) => ({
    success: true,
    table: cloak.alterTable(analystOf(request).orgId, request.params.name, request.body),
  }));

  app.delete<Named>('/api/site/tables/:name', async (request) => {
    cloak.dropTable(analystOf(request).orgId, request.params.name);
    return { success: true };
  });
};
