// Analyst web site: tasks (list, edit, "try it" on test users, runs with progress) and their results.
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../../errors/index.ts';
import { parseBody, parsePagination } from '../../../http/index.ts';
import { TASK_LANGUAGES, type PrefetchSpec, type TaskLanguage } from '../../../shared/index.ts';
import type { CloakPort, TestUser } from '../../cloak-port.ts';
import { bucketName } from '../../result-format.ts';
import { resultsCsv } from '../../results-csv.ts';
import type { Schedule } from '../../schedule.ts';
import {
  TASK_TYPES,
  type AirStore,
  type StoredResult,
  type TaskRecord,
} from '../../store/index.ts';
import type { TaskService } from '../../task-service.ts';
import { prefetchUnlessSql, toApiRun, toApiTask } from '../tasks.ts';
import { analystOf, personOf } from './session-scope.ts';

export interface SiteTaskRoutesOptions {
  store: AirStore;
  tasks: TaskService;
  cloak: CloakPort;
  maxPerPage: number;
}

/** Test users for "try it": a handful, small enough to answer while the analyst waits. */
const MAX_TEST_USERS = 20;

// Shapes only; TaskService and the cloak check the rest with errors that say what to fix.
const fields = {
  name: z.string().min(1).max(100),
  type: z.enum(TASK_TYPES),
  code: z.string().min(1, 'the task needs code').max(1_000_000),
  prefetch: z.array(z.record(z.string(), z.unknown())),
  schedule: z.unknown().optional(),
  language: z.enum(TASK_LANGUAGES),
};
const newTaskBody = z
  .strictObject({
    ...fields,
    type: fields.type.default('batch'),
    language: fields.language.default('javascript'),
    prefetch: fields.prefetch.optional(),
  })
  .refine(...prefetchUnlessSql);
const taskChangeBody = z.strictObject({
  name: fields.name.optional(),
  type: fields.type.optional(),
  code: fields.code.optional(),
  prefetch: fields.prefetch.optional(),
  schedule: fields.schedule,
  language: fields.language.optional(),
});
const cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const tryBody = z
  .strictObject({
    code: fields.code,
    prefetch: fields.prefetch.optional(),
    language: fields.language.default('javascript'),
    users: z
      .array(
        z.strictObject({
          id: z.string().min(1).max(200),
          tables: z.record(z.string(), z.array(z.record(z.string(), cell)).max(1000)),
        }),
      )
      .min(1, 'give at least one test user')
      .max(MAX_TEST_USERS, `give at most ${MAX_TEST_USERS} test users`),
  })
  .refine(...prefetchUnlessSql);

function toSiteTask(task: TaskRecord) {
  return {
    ...toApiTask(task),
    language: task.language,
    code: task.code,
    prefetch: task.prefetch,
  };
}

/**
 * Buckets keep label and value apart (the charts group by label), plus the API's display name;
 * `budget` is the run's published notice about the participation budget, shown beside them.
 */
function toSiteResult(result: StoredResult) {
  return {
    id: result.id,
    published_at: result.publishedAt,
    code_version: result.codeVersion,
    buckets: result.buckets.map((b) => ({ ...b, name: bucketName(b.label, b.value) })),
    exceptions: result.exceptions,
    ...(result.budget ? { budget: result.budget } : {}),
  };
}

export const siteTaskRoutes: FastifyPluginAsync<SiteTaskRoutesOptions> = async (app, opts) => {
  const { store, tasks, cloak } = opts;
  type ByToken = { Params: { token: string } };
  const taskOf = (request: { params: { token: string } } & Parameters<typeof analystOf>[0]) =>
    tasks.find(analystOf(request).orgId, request.params.token);

  app.get('/api/site/tasks', async (request) => ({
    success: true,
    tasks: await Promise.all(
      (await store.tasks.list(analystOf(request).orgId)).map(async (task) => {
        const latest = (await store.results.page(task.id, 1, 1))[0];
        return {
          ...toApiTask(task),
          results: await store.results.count(task.id),
          latest_result_at: latest?.publishedAt ?? null,
        };
      }),
    ),
  }));

  app.post('/api/site/tasks', async (request, reply) => {
    const { prefetch, schedule, ...rest } = parseBody(newTaskBody, request.body);
    const task = await tasks.create(
      analystOf(request).orgId,
      {
        ...rest,
        prefetch: prefetch as unknown as PrefetchSpec[],
        schedule: schedule as Schedule | undefined,
      },
      personOf(request),
    );
    return reply.status(201).send({ success: true, task: toSiteTask(task) });
  });

  // Runs the code on made-up users in the sandbox; real rows are never read.
  app.post('/api/site/tasks/try', async (request) => {
    const body = parseBody(tryBody, request.body);
    const outcomes = await cloak.tryTask(
      analystOf(request).orgId,
      {
        code: body.code,
        prefetch: body.prefetch as unknown as PrefetchSpec[],
        language: body.language as TaskLanguage,
      },
      body.users as TestUser[],
    );
    return { success: true, users: outcomes };
  });

  app.get<ByToken>('/api/site/tasks/:token', async (request) => ({
    success: true,
    task: toSiteTask(await taskOf(request)),
  }));

  app.put<ByToken>('/api/site/tasks/:token', async (request) => {
    const { prefetch, schedule, ...rest } = parseBody(taskChangeBody, request.body);
    const task = await tasks.update(
      analystOf(request).orgId,
      request.params.token,
      {
        ...rest,
        ...(schedule !== undefined ? { schedule: schedule as Schedule | null } : {}),
        ...(prefetch !== undefined ? { prefetch: prefetch as unknown as PrefetchSpec[] } : {}),
      },
      personOf(request),
    );
    return { success: true, task: toSiteTask(task) };
  });

  app.delete<ByToken>('/api/site/tasks/:token', async (request) => {
    await tasks.delete(analystOf(request).orgId, request.params.token);
    return { success: true };
  });

  // Always in the background: the page follows the run's progress and can cancel it.
  app.post<ByToken>('/api/site/tasks/:token/run', async (request, reply) => {
    const { run, finished } = await tasks.startBatch(
      analystOf(request).orgId,
      request.params.token,
      {
        background: true,
        by: personOf(request),
        via: 'site',
      },
    );
    // The outcome is read from the run (state, error); nobody awaits this promise.
    finished.catch(() => undefined);
    return reply.status(202).send({ success: true, run: toApiRun(run) });
  });

  app.get<ByToken>('/api/site/tasks/:token/runs', async (request) => {
    const task = await taskOf(request);
    return { success: true, runs: (await tasks.runs.list(task.orgId, task.id)).map(toApiRun) };
  });

  type ByRun = { Params: { token: string; runId: string } };
  const findRun = async (orgId: string, token: string, runId: string) => {
    const task = await tasks.find(orgId, token);
    const run = await tasks.runs.get(orgId, task.id, runId);
    if (!run) throw new AppError('RUN_NOT_FOUND', { task: task.token, run: runId });
    return { task, run };
  };

  app.get<ByRun>('/api/site/tasks/:token/runs/:runId', async (request) => {
    const { orgId } = analystOf(request);
    const { run } = await findRun(orgId, request.params.token, request.params.runId);
    return { success: true, run: toApiRun(run) };
  });

  app.delete<ByRun>('/api/site/tasks/:token/runs/:runId', async (request) => {
    const { orgId } = analystOf(request);
    const { task, run } = await findRun(orgId, request.params.token, request.params.runId);
    if (run.state !== 'running') {
      throw new AppError('RUN_NOT_ACTIVE', { run: run.id, state: run.state });
    }
    await tasks.runs.cancel(orgId, task.id, run.id);
    return { success: true, run: toApiRun(run) };
  });

  app.get<ByToken>('/api/site/tasks/:token/results', async (request) => {
    const { page, perPage } = parsePagination(request.query, opts.maxPerPage);
    const task = await taskOf(request);
    return {
      success: true,
      count: await store.results.count(task.id),
      page,
      per_page: perPage,
      results: (await store.results.page(task.id, page, perPage)).map(toSiteResult),
    };
  });

  app.get<ByToken>('/api/site/tasks/:token/results.csv', async (request, reply) => {
    const task = await taskOf(request);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${task.token}-results.csv"`)
      .send(Readable.from(resultsCsv(store.results.all(task.id))));
  });

  app.delete<{ Params: { token: string; resultId: string } }>(
    '/api/site/tasks/:token/results/:resultId',
    async (request) => {
      const task = await taskOf(request);
      const id = /^\d{1,15}$/.test(request.params.resultId) ? Number(request.params.resultId) : NaN;
      if (!(await store.results.delete(task.id, id))) {
        throw new AppError('RESULT_NOT_FOUND', {
          result: request.params.resultId,
          task: task.token,
        });
      }
      return { success: true };
    },
  );
};
