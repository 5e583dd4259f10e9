// Web REST API: the organisation's tasks (list, create, read, update, delete) and batch runs.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors/index.ts';
import { identityOf, parseBody, requireKey, type KeyRegistry } from '../../http/index.ts';
import type { PrefetchSpec } from '../../shared/index.ts';
import { toApiItem } from '../result-format.ts';
import { TASK_TYPES, type AirStore, type TaskRecord } from '../store/index.ts';
import type { TaskService } from '../task-service.ts';

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
  };
}

function toApiTaskDetail(task: TaskRecord) {
  return { ...toApiTask(task), code: task.code, prefetch: task.prefetch };
}

// Shapes only; the cloak checks the prefetch against the tables and the code for syntax.
const taskFields = {
  name: z.string().min(1).max(100),
  type: z.enum(TASK_TYPES),
  code: z.string().min(1, 'the task needs code').max(1_000_000),
  prefetch: z.array(z.record(z.string(), z.unknown())).min(1, 'list at least one table'),
};
const newTaskBody = z.strictObject({ ...taskFields, type: taskFields.type.default('batch') });
const taskChangeBody = z
  .strictObject({
    name: taskFields.name.optional(),
    type: taskFields.type.optional(),
    code: taskFields.code.optional(),
    prefetch: taskFields.prefetch.optional(),
  })
  .refine(
    (change) => Object.keys(change).length > 0,
    'change at least one of name, type, code, prefetch',
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
    const task = opts.tasks.create(identityOf(request).orgId, {
      ...body,
      prefetch: body.prefetch as unknown as PrefetchSpec[],
    });
    return reply.status(201).send({ success: true, task: toApiTaskDetail(task) });
  });

  app.get<ByToken>('/api/tasks/:token', webKey, async (request) => ({
    success: true,
    task: toApiTaskDetail(opts.tasks.find(identityOf(request).orgId, request.params.token)),
  }));

  app.put<ByToken>('/api/tasks/:token', webKey, async (request) => {
    const { prefetch, ...rest } = parseBody(taskChangeBody, request.body);
    const task = opts.tasks.update(identityOf(request).orgId, request.params.token, {
      ...rest,
      ...(prefetch !== undefined ? { prefetch: prefetch as unknown as PrefetchSpec[] } : {}),
    });
    return { success: true, task: toApiTaskDetail(task) };
  });

  app.delete<ByToken>('/api/tasks/:token', webKey, async (request) => {
    opts.tasks.delete(identityOf(request).orgId, request.params.token);
    return { success: true };
  });

  app.post<ByToken>('/api/tasks/:token/run', webKey, async (request) => {
    const result = await opts.tasks.runBatch(identityOf(request).orgId, request.params.token);
    return { success: true, result: { id: result.id, ...toApiItem(result) } };
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
