// Web REST API: the organisation's tasks, and starting a batch run.
import type { FastifyPluginAsync } from 'fastify';
import { identityOf, requireKey, type KeyRegistry } from '../../http/index.ts';
import { toApiItem } from '../result-format.ts';
import type { AirStore, TaskRecord } from '../store/index.ts';
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

export const taskRoutes: FastifyPluginAsync<TaskRoutesOptions> = async (app, opts) => {
  const webKey = { preHandler: requireKey(opts.registry, ['web_api']) };

  app.get('/api/tasks', webKey, async (request) => ({
    success: true,
    tasks: opts.store.tasks.list(identityOf(request).orgId).map(toApiTask),
  }));

  app.post<{ Params: { token: string } }>('/api/tasks/:token/run', webKey, async (request) => {
    const result = await opts.tasks.runBatch(identityOf(request).orgId, request.params.token);
    return { success: true, result: toApiItem(result) };
  });
};
