// Web REST API: the organisation's participation budget (GET /api/budget) and a task's cost preview.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  identityOf,
  parseBody,
  requireKey,
  routeDoc,
  successWith,
  type KeyRegistry,
} from '../../http/index.ts';
import * as shapes from './api-schemas.ts';
import { budgetView, parseNoticeLimit } from '../budget-view.ts';
import type { CloakPort } from '../cloak-port.ts';
import type { TaskService } from '../task-service.ts';
import { keyHolderOf } from './tasks.ts';

export interface BudgetRoutesOptions {
  tasks: TaskService;
  cloak: CloakPort;
  registry: KeyRegistry;
}

/** A preview takes no options: it previews the task as saved, at the level its run would have. */
export const previewBody = z.strictObject({});

export const budgetRoutes: FastifyPluginAsync<BudgetRoutesOptions> = async (app, opts) => {
  const preHandler = requireKey(opts.registry, ['web_api']);
  const doc = { tags: ['budget'], keys: ['web_api'] };

  const budgetDoc = routeDoc({
    ...doc,
    summary: "The organisation's participation budget and its latest notices",
    querystring: z.strictObject({
      limit: z.string().optional().describe('Notices to list, 1 to 100 (default 20).'),
    }),
    responses: { 200: successWith({ budget: shapes.budgetView }) },
  });
  app.get<{ Querystring: { limit?: unknown } }>(
    '/api/budget',
    { preHandler, schema: budgetDoc },
    async (request) => ({
      success: true,
      budget: await budgetView(
        opts.cloak,
        identityOf(request).orgId,
        parseNoticeLimit(request.query.limit),
      ),
    }),
  );

  // Waits for the answer, like a waiting run: a preview takes as long as the run would.
  const previewDoc = routeDoc({
    ...doc,
    summary: "A task's cost preview: a dry run that spends nothing and publishes nothing",
    params: shapes.byToken,
    body: previewBody,
    responses: { 200: successWith({ preview: shapes.budgetPreview }) },
  });
  app.post<{ Params: { token: string } }>(
    '/api/tasks/:token/preview',
    { preHandler, schema: previewDoc },
    async (request) => {
      parseBody(previewBody, request.body ?? {});
      const preview = await opts.tasks.preview(identityOf(request).orgId, request.params.token, {
        by: keyHolderOf(request),
      });
      return { success: true, preview };
    },
  );
};
