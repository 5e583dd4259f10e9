// Web REST API: the organisation's participation budget (GET /api/budget) and a task's cost preview.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { identityOf, parseBody, requireKey, type KeyRegistry } from '../../http/index.ts';
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
  const webKey = { preHandler: requireKey(opts.registry, ['web_api']) };

  app.get<{ Querystring: { limit?: unknown } }>('/api/budget', webKey, async (request) => ({
    success: true,
    budget: budgetView(
      opts.cloak,
      identityOf(request).orgId,
      parseNoticeLimit(request.query.limit),
    ),
  }));

  // Waits for the answer, like a waiting run: a preview takes as long as the run would.
  app.post<{ Params: { token: string } }>('/api/tasks/:token/preview', webKey, async (request) => {
    parseBody(previewBody, request.body ?? {});
    const preview = await opts.tasks.preview(identityOf(request).orgId, request.params.token, {
      by: keyHolderOf(request),
    });
    return { success: true, preview };
  });
};
