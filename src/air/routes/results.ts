// Web REST API: task results, in the seed's form and in the later /api/tasks form.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { identityOf, parsePagination, requireKey, type KeyRegistry } from '../../http/index.ts';
import { toApiItem } from '../result-format.ts';
import type { AirStore } from '../store/index.ts';
import type { TaskService } from '../task-service.ts';

export interface ResultRoutesOptions {
  store: AirStore;
  tasks: TaskService;
  registry: KeyRegistry;
  maxPerPage: number;
}

export const resultRoutes: FastifyPluginAsync<ResultRoutesOptions> = async (app, opts) => {
  const webKey = { preHandler: requireKey(opts.registry, ['web_api']) };

  function resultsPage(request: FastifyRequest, ref: string) {
    // Pagination first: a bad page is a 422 whether or not the task exists, so the status never
    // tells a caller anything about tasks it cannot see.
    const { page, perPage } = parsePagination(request.query, opts.maxPerPage);
    const task = opts.tasks.find(identityOf(request).orgId, ref);
    return {
      success: true,
      count: opts.store.results.count(task.id),
      page,
      per_page: perPage,
      items: opts.store.results.page(task.id, page, perPage).map(toApiItem),
    };
  }

  app.get<{ Params: { taskId: string } }>('/api/task_results/:taskId', webKey, async (request) =>
    resultsPage(request, request.params.taskId),
  );

  app.get<{ Params: { token: string } }>('/api/tasks/:token/results', webKey, async (request) => {
    const { items, ...rest } = resultsPage(request, request.params.token);
    return { ...rest, results: items };
  });
};
