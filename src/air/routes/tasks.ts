// Web REST API: the organisation's tasks (list, create, read, update, delete) and batch runs.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors/index.ts';
import {
  identityOf,
  keyOwnerOf,
  okAnswer,
  parseBody,
  requireKey,
  routeDoc,
  successWith,
  type KeyRegistry,
  type RouteDoc,
} from '../../http/index.ts';
import type { TaskActor } from '../access-levels.ts';
import { TASK_LANGUAGES, type PrefetchSpec } from '../../shared/index.ts';
import { toApiItem } from '../result-format.ts';
import { TASK_TYPES, type AirStore, type TaskRecord } from '../store/index.ts';
import type { TaskService } from '../task-service.ts';
import type { TaskRun } from '../task-runs.ts';
import { nextRunAfter, type Schedule } from '../schedule.ts';
import * as shapes from './api-schemas.ts';

export interface TaskRoutesOptions {
  store: AirStore;
  tasks: TaskService;
  registry: KeyRegistry;
}

export function toApiTask(task: TaskRecord) {
  return {
    id: task.id,
    token: task.token,
    name: task.name,
    type: task.type,
    code_version: task.codeVersion,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
    ...(task.schedule
      ? {
          schedule: task.schedule,
          next_run_at: nextRunAfter(task.schedule, task.lastScheduledAt ?? task.createdAt),
        }
      : {}),
  };
}

function toApiTaskDetail(task: TaskRecord) {
  return { ...toApiTask(task), language: task.language, code: task.code, prefetch: task.prefetch };
}

export function toApiRun(run: TaskRun) {
  return {
    id: run.id,
    kind: run.kind,
    state: run.state,
    users_done: run.progress.done,
    users_total: run.progress.total,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    result_id: run.resultId,
    error: run.error,
  };
}

/** The key's owner, as the key registry has them: saver or starter of a task. */
export function keyHolderOf(request: FastifyRequest): TaskActor {
  return { actor: `key:${identityOf(request).keyId}`, personId: keyOwnerOf(request).personId };
}

const runBody = z.strictObject({ wait: z.boolean().default(true) });

// Shapes only; the cloak checks the prefetch against the tables and the code for syntax.
const taskFields = {
  name: z.string().min(1).max(100),
  type: z.enum(TASK_TYPES),
  code: z.string().min(1, 'the task needs code').max(1_000_000),
  prefetch: z.array(z.record(z.string(), z.unknown())),
  // Checked by TaskService against the type, with errors that show the two accepted forms.
  schedule: z.unknown().optional(),
  language: z.enum(TASK_LANGUAGES),
};
/** A script needs a prefetch; a sql task names its tables in its query, and the cloak derives it. */
export const prefetchUnlessSql: [
  (body: { language?: string; prefetch?: unknown[] }) => boolean,
  { message: string; path: string[] },
] = [
  (body) => body.language === 'sql' || (body.prefetch?.length ?? 0) > 0,
  {
    message: 'list at least one table (a sql task needs none: its query names its tables)',
    path: ['prefetch'],
  },
];
const newTaskBody = z
  .strictObject({
    ...taskFields,
    type: taskFields.type.default('batch'),
    language: taskFields.language.default('javascript'),
    prefetch: taskFields.prefetch.optional(),
  })
  .refine(...prefetchUnlessSql);
const taskChangeBody = z
  .strictObject({
    name: taskFields.name.optional(),
    type: taskFields.type.optional(),
    code: taskFields.code.optional(),
    prefetch: taskFields.prefetch.optional(),
    schedule: taskFields.schedule.optional(),
    language: taskFields.language.optional(),
  })
  .refine(
    (change) => Object.keys(change).length > 0,
    'change at least one of name, type, code, prefetch, schedule, language',
  );

export const taskRoutes: FastifyPluginAsync<TaskRoutesOptions> = async (app, opts) => {
  const preHandler = requireKey(opts.registry, ['web_api']);
  const webKey = (doc: Omit<RouteDoc, 'tags' | 'keys'>) => ({
    preHandler,
    schema: routeDoc({ tags: ['tasks'], keys: ['web_api'], ...doc }),
  });
  type ByToken = { Params: { token: string } };
  const byRun = shapes.byToken.extend({ runId: z.string() });
  const taskAnswer = { 200: successWith({ task: shapes.taskDetail }) };
  const runAnswer = { 200: successWith({ run: shapes.run }) };

  const listDoc = {
    summary: "The organisation's tasks",
    responses: { 200: successWith({ tasks: z.array(shapes.task) }) },
  };
  app.get('/api/tasks', webKey(listDoc), async (request) => ({
    success: true,
    tasks: (await opts.store.tasks.list(identityOf(request).orgId)).map(toApiTask),
  }));

  const createDoc = {
    summary: 'Create a task',
    body: newTaskBody,
    responses: { 201: successWith({ task: shapes.taskDetail }) },
  };
  app.post('/api/tasks', webKey(createDoc), async (request, reply) => {
    const body = parseBody(newTaskBody, request.body);
    const task = await opts.tasks.create(
      identityOf(request).orgId,
      {
        ...body,
        prefetch: (body.prefetch ?? []) as unknown as PrefetchSpec[],
        schedule: body.schedule as Schedule | undefined,
      },
      keyHolderOf(request),
    );
    return reply.status(201).send({ success: true, task: toApiTaskDetail(task) });
  });

  const readDoc = {
    summary: 'A task with its code',
    params: shapes.byToken,
    responses: taskAnswer,
  };
  app.get<ByToken>('/api/tasks/:token', webKey(readDoc), async (request) => ({
    success: true,
    task: toApiTaskDetail(await opts.tasks.find(identityOf(request).orgId, request.params.token)),
  }));

  const changeDoc = {
    summary: 'Change a task',
    params: shapes.byToken,
    body: taskChangeBody,
    responses: taskAnswer,
  };
  app.put<ByToken>('/api/tasks/:token', webKey(changeDoc), async (request) => {
    const { prefetch, schedule, ...rest } = parseBody(taskChangeBody, request.body);
    const task = await opts.tasks.update(
      identityOf(request).orgId,
      request.params.token,
      {
        ...rest,
        ...(schedule !== undefined ? { schedule: schedule as Schedule | null } : {}),
        ...(prefetch !== undefined ? { prefetch: prefetch as unknown as PrefetchSpec[] } : {}),
      },
      keyHolderOf(request),
    );
    return { success: true, task: toApiTaskDetail(task) };
  });

  const deleteDoc = {
    summary: 'Delete a task and its results',
    params: shapes.byToken,
    responses: { 200: okAnswer },
  };
  app.delete<ByToken>('/api/tasks/:token', webKey(deleteDoc), async (request) => {
    await opts.tasks.delete(identityOf(request).orgId, request.params.token);
    return { success: true };
  });

  // Waits for the result by default, as the seed's clients expect; {"wait": false} answers 202
  // at once with a run to follow (GET .../runs/<id>) or cancel (DELETE .../runs/<id>).
  const runDoc = {
    summary: 'Run a batch task (waits for its result unless {"wait": false})',
    params: shapes.byToken,
    body: runBody,
    responses: {
      200: successWith({ run: shapes.run, result: shapes.resultWithId }),
      202: successWith({ run: shapes.run }),
    },
  };
  app.post<ByToken>('/api/tasks/:token/run', webKey(runDoc), async (request, reply) => {
    const { wait } = parseBody(runBody, request.body ?? {});
    const orgId = identityOf(request).orgId;
    const { run, finished } = await opts.tasks.startBatch(orgId, request.params.token, {
      background: !wait,
      by: keyHolderOf(request),
      via: 'web API',
    });
    if (!wait) return reply.status(202).send({ success: true, run: toApiRun(run) });
    const result = await finished;
    return { success: true, run: toApiRun(run), result: { id: result.id, ...toApiItem(result) } };
  });

  const runsDoc = {
    summary: "The task's recent runs",
    params: shapes.byToken,
    responses: { 200: successWith({ runs: z.array(shapes.run) }) },
  };
  app.get<ByToken>('/api/tasks/:token/runs', webKey(runsDoc), async (request) => {
    const orgId = identityOf(request).orgId;
    const task = await opts.tasks.find(orgId, request.params.token);
    return { success: true, runs: (await opts.tasks.runs.list(orgId, task.id)).map(toApiRun) };
  });

  type ByRun = { Params: { token: string; runId: string } };
  const findRun = async (orgId: string, token: string, runId: string) => {
    const task = await opts.tasks.find(orgId, token);
    const run = await opts.tasks.runs.get(orgId, task.id, runId);
    if (!run) throw new AppError('RUN_NOT_FOUND', { task: task.token, run: runId });
    return { task, run };
  };

  const runDocs = { params: byRun, responses: runAnswer };
  app.get<ByRun>(
    '/api/tasks/:token/runs/:runId',
    webKey({ summary: 'One run', ...runDocs }),
    async (request) => {
      const { run } = await findRun(
        identityOf(request).orgId,
        request.params.token,
        request.params.runId,
      );
      return { success: true, run: toApiRun(run) };
    },
  );

  const cancelDoc = { summary: 'Cancel a running run', ...runDocs };
  app.delete<ByRun>('/api/tasks/:token/runs/:runId', webKey(cancelDoc), async (request) => {
    const orgId = identityOf(request).orgId;
    const { task, run } = await findRun(orgId, request.params.token, request.params.runId);
    if (run.state !== 'running') {
      throw new AppError('RUN_NOT_ACTIVE', { run: run.id, state: run.state });
    }
    await opts.tasks.runs.cancel(orgId, task.id, run.id);
    return { success: true, run: toApiRun(run) };
  });

  app.delete<{ Params: { token: string; resultId: string } }>(
    '/api/tasks/:token/results/:resultId',
    webKey({
      summary: 'Delete one result',
      params: shapes.byToken.extend({ resultId: z.string() }),
      responses: { 200: okAnswer },
    }),
    async (request) => {
      const task = await opts.tasks.find(identityOf(request).orgId, request.params.token);
      const id = /^\d{1,15}$/.test(request.params.resultId) ? Number(request.params.resultId) : NaN;
      if (!(await opts.store.results.delete(task.id, id))) {
        throw new AppError('RESULT_NOT_FOUND', {
          result: request.params.resultId,
          task: task.token,
        });
      }
      return { success: true };
    },
  );
};
