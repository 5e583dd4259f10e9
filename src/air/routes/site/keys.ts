// Analyst web site: the organisation's API keys (create and download once, list, revoke).
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../../errors/index.ts';
import { parseBody } from '../../../http/index.ts';
import type { KeyService } from '../../key-service.ts';
import type { AirStore, ApiKeyRecord } from '../../store/index.ts';
import { actorOf, analystOf } from './session-scope.ts';

const newKeyBody = z.strictObject({
  type: z.string(),
  description: z.string(),
  password: z.string(),
  user_id: z.string().optional(),
  legacy_pkcs12: z.boolean().default(false),
});

function keyStatus(key: ApiKeyRecord, now: number): 'active' | 'revoked' | 'expired' {
  if (key.revokedAt !== null) return 'revoked';
  return key.expiresAt <= now ? 'expired' : 'active';
}

function toSiteKey(key: ApiKeyRecord, now = Date.now()) {
  return {
    id: key.id,
    type: key.type,
    description: key.description,
    user_id: key.userId,
    created_at: key.createdAt,
    expires_at: key.expiresAt,
    revoked_at: key.revokedAt,
    status: keyStatus(key, now),
  };
}

export const siteKeyRoutes: FastifyPluginAsync<{ store: AirStore; keys: KeyService }> = async (
  app,
  { store, keys },
) => {
  app.get('/api/site/keys', async (request) => ({
    success: true,
    keys: (await store.keys.list(analystOf(request).orgId)).map((key) => toSiteKey(key)),
  }));

  // The files are in this answer only: the password that protects them is never stored. Which
  // types the person may create follows their role (key-policy.ts); a refusal is a 403.
  app.post('/api/site/keys', async (request, reply) => {
    const body = parseBody(newKeyBody, request.body);
    const { orgId } = analystOf(request);
    const issued = await keys.create(
      orgId,
      {
        type: body.type,
        description: body.description,
        password: body.password,
        legacyPkcs12: body.legacy_pkcs12,
        ...(body.user_id !== undefined ? { userId: body.user_id } : {}),
      },
      { actor: actorOf(request), role: analystOf(request).role, personId: analystOf(request).id },
    );
    await store.audit.record({
      orgId,
      event: 'key.downloaded',
      actor: actorOf(request),
      detail: { key: issued.record.id, formats: 'pfx,pem' },
    });
    return reply.status(201).send({
      success: true,
      key: toSiteKey(issued.record),
      pfx_base64: issued.pfx.toString('base64'),
      pem: issued.pem,
    });
  });

  app.delete<{ Params: { id: string } }>('/api/site/keys/:id', async (request) => {
    const { orgId } = analystOf(request);
    const key = await store.keys.get(orgId, request.params.id);
    if (!key) throw new AppError('KEY_NOT_FOUND', { key: request.params.id });
    await keys.revoke(orgId, key.id, actorOf(request));
    return { success: true, key: toSiteKey((await store.keys.get(orgId, key.id))!) };
  });
};
