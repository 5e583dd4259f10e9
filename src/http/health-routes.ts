// GET /healthz and GET /readyz on both APIs: for load balancers and orchestrators, without a key.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors/index.ts';
import type { AnsweredRequest } from './https-app.ts';
import { routeDoc, successWith } from './openapi.ts';

/** Whether this server should get requests now, and if not, why (said to anyone who asks). */
export interface Readiness {
  ready: boolean;
  /** Why not, in words that name no secret, path or organisation: "draining for shutdown". */
  reason?: string;
}

export type HealthProbe = () => Promise<Readiness>;

/** What a server tells the operator's side: its readiness, and each request it answered. */
export interface ServerOps {
  probe?: HealthProbe;
  onAnswered?: (answered: AnsweredRequest) => void;
}

export interface HealthRoutesOptions {
  /** Without one (a server assembled alone, in tests) the server is ready while it runs. */
  probe?: HealthProbe;
}

/*
 * Neither route asks for a client certificate: probes (Docker's HEALTHCHECK, Kubernetes,
 * a load balancer) have none, and the answers say only what anyone who can connect learns
 * anyway: that the process answers, and whether it takes work. No version, no counts, no
 * organisation, and the reason of a 503 is one of a few fixed phrases.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, opts) => {
  app.get(
    '/healthz',
    {
      schema: routeDoc({
        tags: ['health'],
        summary: 'Liveness: the process answers (no key needed)',
        responses: { 200: successWith({ status: z.literal('alive') }) },
      }),
    },
    async () => ({ success: true, status: 'alive' }),
  );
  app.get(
    '/readyz',
    {
      schema: routeDoc({
        tags: ['health'],
        summary:
          'Readiness: the stores answer, the sandbox starts, the server is not draining; else 503 with the reason (no key needed)',
        responses: { 200: successWith({ status: z.literal('ready') }) },
      }),
    },
    async () => {
      const readiness = opts.probe ? await opts.probe() : { ready: true };
      if (!readiness.ready) {
        throw new AppError('NOT_READY', { reason: readiness.reason ?? 'not ready' });
      }
      return { success: true, status: 'ready' };
    },
  );
};
