// Cloak API upload routes: POST /bulk_insert (any-user key) and POST /insert (one-user key).
import type { FastifyPluginAsync } from 'fastify';
import { identityOf, okAnswer, requireKey, routeDoc, type KeyRegistry } from '../../http/index.ts';
import type { CloakDataStore } from '../data/index.ts';
import { uploadKeyName, type JsonPath } from '../../shared/index.ts';
import { bulkInsertBody, insertBody } from './api-schemas.ts';

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
    {
      preHandler: requireKey(registry, ['upload_any']),
      config: { jsonKeyName: (path, key) => uploadKeyName(path, key) },
      schema: routeDoc({
        tags: ['upload'],
        keys: ['upload_any'],
        summary: 'Add rows for any users (all or nothing)',
        body: bulkInsertBody,
        responses: { 200: okAnswer },
      }),
    },
    async (request) => {
      await data.insert(identityOf(request).orgId, request.body);
      return { success: true };
    },
  );

  const insertDoc = routeDoc({
    tags: ['upload'],
    keys: ['upload_user'],
    summary: "Add rows for the key's own user (all or nothing)",
    body: insertBody,
    responses: { 200: okAnswer },
  });
  const insertOptions = {
    preHandler: requireKey(registry, ['upload_user']),
    config: { jsonKeyName: (path: JsonPath, key: string) => uploadKeyName(path, key, true) },
    schema: insertDoc,
  };
  app.post('/insert', insertOptions, async (request) => {
    const { orgId, userId } = identityOf(request);
    // The user comes from the certificate; the body cannot name another user.
    await data.insert(orgId, { [userId as string]: request.body });
    return { success: true };
  });
};
