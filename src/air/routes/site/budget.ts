// Analyst web site: the organisation's participation budget, and a task's cost preview.
import type { FastifyPluginAsync } from 'fastify';
import { parseBody } from '../../../http/index.ts';
import { budgetView, parseNoticeLimit } from '../../budget-view.ts';
import type { CloakPort } from '../../cloak-port.ts';
import type { TaskService } from '../../task-service.ts';
import { previewBody } from '../budget.ts';
import { analystOf, personOf } from './session-scope.ts';

export const siteBudgetRoutes: FastifyPluginAsync<{
  tasks: TaskService;
  cloak: CloakPort;
}> = async (app, { tasks, cloak }) => {
  app.get<{ Querystring: { limit?: unknown } }>('/api/site/budget', async (request) => ({
    success: true,
    budget: await budgetView(
      cloak,
      analystOf(request).orgId,
      parseNoticeLimit(request.query.limit),
    ),
  }));

  app.post<{ Params: { token: string } }>('/api/site/tasks/:token/preview', async (request) => {
    parseBody(previewBody, request.body ?? {});
    const preview = await tasks.preview(analystOf(request).orgId, request.params.token, {
      by: personOf(request),
    });
    return { success: true, preview };
  });
};
