// Web REST API: task results, in the seed's form and in the later /api/tasks form.
import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { identityOf, parsePagination, requireKey, type KeyRegistry } from '../../http/index.ts';
import { resultsCsv } from '../results-csv.ts';
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
    const orgId = identityOf(request).orgId;
    const { readCache } = opts.store;
    // Scoped by organisation in the key too: one organisation's lookup never answers another's.
    const task = readCache.get(`task:${orgId}:${ref}`, () => opts.tasks.find(orgId, ref));
    const body = readCache.get(`page:${task.id}:${page}:${perPage}:${listKey}`, () => {
      const count = opts.store.results.count(task.id);
      // The seed's items stay exactly as documented; the /api/tasks form also names each
      // result's id, which deleting a result needs.
      const items = opts.store.results
        .pageApiItems(task.id, page, perPage)
        .map((item) =>
          listKey === 'items' ? item.json : `{"id":${item.id},${item.json.slice(1)}`,
        );
      return `{"success":true,"count":${count},"page":${page},"per_page":${perPage},"${listKey}":[${items.join(',')}]}`;
    });
    return reply.type('application/json; charset=utf-8').send(body);
  }

  app.get<{ Params: { taskId: string } }>('/api/task_results/:taskId', webKey, (request, reply) =>
    resultsPage(request, reply, request.params.taskId, 'items'),
  );

  app.get<{ Params: { token: string } }>(
    '/api/tasks/:token/results.csv',
    webKey,
    (request, reply) => {
      const task = opts.tasks.find(identityOf(request).orgId, request.params.token);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${task.token}-results.csv"`)
        .send(Readable.from(resultsCsv(opts.store.results.all(task.id))));
    },
  );

  app.get<{ Params: { token: string } }>('/api/tasks/:token/results', webKey, (request, reply) =>
    resultsPage(request, reply, request.params.token, 'results'),
  );
};
