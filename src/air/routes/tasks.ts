// Web REST API: the organisation's tasks (list, create, read, update, delete) and batch runs.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors/index.ts';
import {
  identityOf,
  keyOwnerOf,
  parseBody,
  requireKey,
  type KeyRegistry,
} from '../../http/index.ts';
import type { TaskActor } from '../access-levels.ts';
import { TASK_LANGUAGES, type PrefetchSpec } from '../../shared/index.ts';
import { toApiItem } from '../result-format.ts';
import { TASK_TYPES, type AirStore, type TaskRecord } from '../store/index.ts';
import type { TaskService } from '../task-service.ts';
import type { TaskRun } from '../task-runs.ts';
import { nextRunAfter, type Schedule } from '../schedule.ts';

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
  const webKey = { preHandler: requireKey(opts.registry, ['web_api']) };
  type ByToken = { Params: { token: string } };

  app.get('/api/tasks', webKey, async (request) => ({
    success: true,
    tasks: opts.store.tasks.list(identityOf(request).orgId).map(toApiTask),
  }));

  app.post('/api/tasks', webKey, async (request, reply) => {
    const body = parseBody(newTaskBody, request.body);
    const task = opts.tasks.create(
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

  app.get<ByToken>('/api/tasks/:token', webKey, async (request) => ({
    success: true,
    task: toApiTaskDetail(opts.tasks.find(identityOf(request).orgId, request.params.token)),
  }));

  app.put<ByToken>('/api/tasks/:token', webKey, async (request) => {
    const { prefetch, schedule, ...rest } = parseBody(taskChangeBody, request.body);
    const task = opts.tasks.update(
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

  app.delete<ByToken>('/api/tasks/:token', webKey, async (request) => {
    opts.tasks.delete(identityOf(request).orgId, request.params.token);
    return { success: true };
  });

  // Waits for the result by default, as the seed's clients expect; {"wait": false} answers 202
  // at once with a run to follow (GET .../runs/<id>) or cancel (DELETE .../runs/<id>).
  app.post<ByToken>('/api/tasks/:token/run', webKey, async (request, reply) => {
    const { wait } = parseBody(runBody, request.body ?? {});
    const orgId = identityOf(request).orgId;
    const { run, finished } = opts.tasks.startBatch(orgId, request.params.token, {
      background: !wait,
      by: keyHolderOf(request),
      via: 'web API',
    });
    if (!wait) return reply.status(202).send({ success: true, run: toApiRun(run) });
    const result = await finished;
    return { success: true, run: toApiRun(run), result: { id: result.id, ...toApiItem(result) } };
  });

  app.get<ByToken>('/api/tasks/:token/runs', webKey, async (request) => {
    const orgId = identityOf(request).orgId;
    const task = opts.tasks.find(orgId, request.params.token);
    return { success: true, runs: opts.tasks.runs.list(orgId, task.id).map(toApiRun) };
  });

  type ByRun = { Params: { token: string; runId: string } };
  const findRun = (orgId: string, token: string, runId: string) => {
    const task = opts.tasks.find(orgId, token);
    const run = opts.tasks.runs.get(orgId, task.id, runId);
    if (!run) throw new AppError('RUN_NOT_FOUND', { task: task.token, run: runId });
    return { task, run };
  };

  app.get<ByRun>('/api/tasks/:token/runs/:runId', webKey, async (request) => {
    const { run } = findRun(identityOf(request).orgId, request.params.token, request.params.runId);
    return { success: true, run: toApiRun(run) };
  });

  app.delete<ByRun>('/api/tasks/:token/runs/:runId', webKey, async (request) => {
    const orgId = identityOf(request).orgId;
    const { task, run } = findRun(orgId, request.params.token, request.params.runId);
    if (run.state !== 'running') {
      throw new AppError('RUN_NOT_ACTIVE', { run: run.id, state: run.state });
    }
    opts.tasks.runs.cancel(orgId, task.id, run.id);
    return { success: true, run: toApiRun(run) };
  });

  app.delete<{ Params: { token: string; resultId: string } }>(
    '/api/tasks/:token/results/:resultId',
    webKey,
    async (request) => {
      const task = opts.tasks.find(identityOf(request).orgId, request.params.token);
      const id = /^\d{1,15}$/.test(request.params.resultId) ? Number(request.params.resultId) : NaN;
      if (!opts.store.results.delete(task.id, id)) {
        throw new AppError('RESULT_NOT_FOUND', {
          result: request.params.resultId,
          task: task.token,
        });
      }
      return { success: true };
    },
  );
};
