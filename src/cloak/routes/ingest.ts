// Cloak API upload routes: POST /bulk_insert (any-user key) and POST /insert (one-user key).
import type { FastifyPluginAsync } from 'fastify';
import { identityOf, requireKey, type KeyRegistry } from '../../http/index.ts';
import type { CloakDataStore } from '../data/index.ts';

export interface IngestRoutesOptions {
  data: CloakDataStore;
  registry: KeyRegistry;
}

/** Both answer only after the rows are committed with synchronous=FULL: an acknowledged upload is durable. */
export const ingestRoutes: FastifyPluginAsync<IngestRoutesOptions> = async (
  app,
  { data, registry },
) => {
  app.post(
    '/bulk_insert',
    { preHandler: requireKey(registry, ['upload_any']) },
    async (request) => {
      data.insert(identityOf(request).orgId, request.body);
      return { success: true };
    },
  );

  app.post('/insert', { preHandler: requireKey(registry, ['upload_user']) }, async (request) => {
    const { orgId, userId } = identityOf(request);
    // The user comes from the certificate; the body cannot name another user.
    data.insert(orgId, { [userId as string]: request.body });
    return { success: true };
  });
};
