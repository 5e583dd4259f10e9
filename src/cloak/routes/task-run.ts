// Cloak API task route: POST /task/run runs a task synchronously and answers with anonymized buckets.
import type { FastifyPluginAsync } from 'fastify';
import { identityOf, requireKey, type KeyRegistry } from '../../http/index.ts';
import type { TaskRunner } from '../task-runner.ts';

export interface TaskRunRoutesOptions {
  runner: TaskRunner;
  registry: KeyRegistry;
}

export const taskRunRoutes: FastifyPluginAsync<TaskRunRoutesOptions> = async (app, opts) => {
  app.post(
    '/task/run',
    { preHandler: requireKey(opts.registry, ['task_runner']) },
    async (request) => {
      const body = request.body as Record<string, unknown> | null;
      const result = await opts.runner.run(identityOf(request).orgId, body);
      return {
        task_id: body?.task_id ?? null,
        buckets: result.buckets,
        exceptions: result.exceptions,
      };
    },
  );
};
