// Web REST API: task results, in the seed's form and in the later /api/tasks form.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { identityOf, parsePagination, requireKey, type KeyRegistry } from '../../http/index.ts';
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

  /**
   * The body is spliced from items rendered at publication time; the envelope's keys are the
   * seed's, in its order, and `listKey` is "items" (seed) or "results" (/api/tasks form).
   */
  function resultsPage(request: FastifyRequest, reply: FastifyReply, ref: string, listKey: string) {
    // Pagination first: a bad page is a 422 whether or not the task exists, so the status never
    // tells a caller anything about tasks it cannot see.
    const { page, perPage } = parsePagination(request.query, opts.maxPerPage);
    const task = opts.tasks.find(identityOf(request).orgId, ref);
    const count = opts.store.results.count(task.id);
    const items = opts.store.results.pageApiItems(task.id, page, perPage);
    return reply
      .type('application/json; charset=utf-8')
      .send(
        `{"success":true,"count":${count},"page":${page},"per_page":${perPage},"${listKey}":[${items.join(',')}]}`,
      );
  }

  app.get<{ Params: { taskId: string } }>('/api/task_results/:taskId', webKey, (request, reply) =>
    resultsPage(request, reply, request.params.taskId, 'items'),
  );

  app.get<{ Params: { token: string } }>('/api/tasks/:token/results', webKey, (request, reply) =>
    resultsPage(request, reply, request.params.token, 'results'),
  );
};
