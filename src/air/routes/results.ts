// Web REST API: task results, in the seed's form and in the later /api/tasks form.
import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  identityOf,
  parsePagination,
  requireKey,
  routeDoc,
  jsonSchema,
  type KeyRegistry,
} from '../../http/index.ts';
import { resultsCsv } from '../results-csv.ts';
import type { AirStore } from '../store/index.ts';
import type { TaskService } from '../task-service.ts';
import * as shapes from './api-schemas.ts';

export interface ResultRoutesOptions {
  store: AirStore;
  tasks: TaskService;
  registry: KeyRegistry;
  maxPerPage: number;
}

export const resultRoutes: FastifyPluginAsync<ResultRoutesOptions> = async (app, opts) => {
  const preHandler = requireKey(opts.registry, ['web_api']);
  const doc = { tags: ['results'], keys: ['web_api'] };

  /**
   * The body is spliced from items rendered at publication time; the envelope's keys are the
   * seed's, in its order, and `listKey` is "items" (seed) or "results" (/api/tasks form).
   */
  async function resultsPage(
    request: FastifyRequest,
    reply: FastifyReply,
    ref: string,
    listKey: string,
  ) {
    // Pagination first: a bad page is a 422 whether or not the task exists, so the status never
    // tells a caller anything about tasks it cannot see.
    const { page, perPage } = parsePagination(request.query, opts.maxPerPage);
    const orgId = identityOf(request).orgId;
    const { readCache } = opts.store;
    // Scoped by organisation in the key too: one organisation's lookup never answers another's.
    const task = await readCache.get(`task:${orgId}:${ref}`, () => opts.tasks.find(orgId, ref));
    const body = await readCache.get(`page:${task.id}:${page}:${perPage}:${listKey}`, async () => {
      const count = await opts.store.results.count(task.id);
      // The seed's items stay exactly as documented; the /api/tasks form also names each
      // result's id, which deleting a result needs.
      const items = (await opts.store.results.pageApiItems(task.id, page, perPage)).map((item) =>
        listKey === 'items' ? item.json : `{"id":${item.id},${item.json.slice(1)}`,
      );
      return `{"success":true,"count":${count},"page":${page},"per_page":${perPage},"${listKey}":[${items.join(',')}]}`;
    });
    return reply.type('application/json; charset=utf-8').send(body);
  }

  const seedDoc = routeDoc({
    ...doc,
    summary: "A task's results, newest first (the seed's endpoint)",
    params: z.strictObject({
      taskId: z.string().describe("The task's numeric id (or its token)."),
    }),
    querystring: shapes.pagination,
    responses: { 200: jsonSchema(shapes.seedResultsPage) },
  });
  app.get<{ Params: { taskId: string } }>(
    '/api/task_results/:taskId',
    { preHandler, schema: seedDoc },
    (request, reply) => resultsPage(request, reply, request.params.taskId, 'items'),
  );

  app.get<{ Params: { token: string } }>(
    '/api/tasks/:token/results.csv',
    {
      preHandler,
      schema: routeDoc({
        ...doc,
        summary: 'Every result as CSV: result_id,published_at,kind,label,value,count',
        params: shapes.byToken,
        responses: {
          200: { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } },
        },
      }),
    },
    async (request, reply) => {
      const task = await opts.tasks.find(identityOf(request).orgId, request.params.token);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${task.token}-results.csv"`)
        .send(Readable.from(resultsCsv(opts.store.results.all(task.id))));
    },
  );

  const resultsDoc = routeDoc({
    ...doc,
    summary: "A task's results, newest first, each with its id",
    params: shapes.byToken,
    querystring: shapes.pagination,
    responses: { 200: jsonSchema(shapes.resultsPage) },
  });
  app.get<{ Params: { token: string } }>(
    '/api/tasks/:token/results',
    { preHandler, schema: resultsDoc },
    (request, reply) => resultsPage(request, reply, request.params.token, 'results'),
  );
};
