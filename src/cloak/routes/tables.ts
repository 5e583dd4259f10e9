// Cloak API admin routes: user table definitions, lookup tables and forgetting a user (admin key).
import type { FastifyPluginAsync } from 'fastify';
import { identityOf, requireKey, type KeyRegistry } from '../../http/index.ts';
import { AppError } from '../../errors/index.ts';
import type { CloakDataStore } from '../data/index.ts';

export interface TableRoutesOptions {
  data: CloakDataStore;
  registry: KeyRegistry;
}

export const tableRoutes: FastifyPluginAsync<TableRoutesOptions> = async (
  app,
  { data, registry },
) => {
  const admin = { preHandler: requireKey(registry, ['admin']) };
  type Named = { Params: { name: string } };

  app.get('/tables', admin, async (request) => ({
    success: true,
    tables: data.listTables(identityOf(request).orgId),
  }));

  app.post('/tables', admin, async (request, reply) => {
    const table = data.createTable(identityOf(request).orgId, request.body);
    return reply.status(201).send({ success: true, table });
  });

  app.patch<Named>('/tables/:name', admin, async (request) => ({
    success: true,
    table: data.alterTable(identityOf(request).orgId, request.params.name, request.body),
  }));

  app.delete<Named>('/tables/:name', admin, async (request) => {
    const orgId = identityOf(request).orgId;
    if (!data.getTable(orgId, request.params.name)) {
      throw new AppError('UNKNOWN_TABLE', {
        table: request.params.name,
        known:
          data
            .listTables(orgId)
            .map((t) => t.name)
            .join(', ') || 'none',
      });
    }
    data.dropTable(orgId, request.params.name);
    return { success: true };
  });

  app.get('/lookup_tables', admin, async (request) => ({
    success: true,
    lookup_tables: data.listLookupTables(identityOf(request).orgId),
  }));

  app.put<Named>('/lookup_tables/:name', admin, async (request) => {
    data.setLookupTable(identityOf(request).orgId, request.params.name, request.body);
    return { success: true };
  });

  app.delete<Named>('/lookup_tables/:name', admin, async (request) => {
    data.removeLookupTable(identityOf(request).orgId, request.params.name);
    return { success: true };
  });

  app.delete<{ Params: { userId: string } }>('/users/:userId', admin, async (request) => ({
    success: true,
    rows_removed: data.deleteUser(identityOf(request).orgId, request.params.userId),
  }));
};
