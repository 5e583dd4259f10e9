// Cloak API task route: POST /task/run, synchronous by default, or async with delivery to return_url.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { AppError } from '../../errors/index.ts';
import {
  identityOf,
  jsonSchema,
  keyOwnerOf,
  requireKey,
  routeDoc,
  type KeyRegistry,
} from '../../http/index.ts';
import type { AccessLevel, AnonymizedResult, TaskSpec } from '../../shared/index.ts';
import { deliverResult, RUN_ID_HEADER, type DeliveryHandoff } from '../result-delivery.ts';
import type { TaskRunner } from '../task-runner.ts';
import { asyncAccepted, taskRunAnswer, taskRunBody } from './api-schemas.ts';

export interface TaskRunRoutesOptions {
  runner: TaskRunner;
  registry: KeyRegistry;
  /** Whole-run limit of async runs (cloak.backgroundTaskTimeoutSeconds). */
  backgroundTimeoutSeconds: number;
  /** Delivery attempts per async result (cloak.deliveryAttempts) and the first retry delay. */
  delivery: { attempts: number; firstDelayMs: number };
  /** Server mode: where results go instead of being posted from this process. */
  handoff?: DeliveryHandoff;
}

interface AsyncRequest {
  url: URL;
  authToken: string;
}

/**
 * The seed's answer shape: `task_id` echoed, anonymized buckets and exceptions; beside them, for
 * runs charged to the participation budget, what the run said about it.
 */
function answer(taskId: unknown, result: AnonymizedResult) {
  const { buckets, exceptions, budget } = result;
  return { task_id: taskId ?? null, buckets, exceptions, ...(budget ? { budget } : {}) };
}

/** `return_url` is base64 (as in the 2015 API) of an http(s) URL; `auth_token` comes back as a header. */
function readAsync(body: Record<string, unknown> | null): AsyncRequest {
  const encoded = body?.return_url;
  if (typeof encoded !== 'string' || encoded.length === 0) {
    throw new AppError('INVALID_PARAMETER', {
      detail:
        'An async run (header "async_query: true") needs "return_url": the base64 of the http(s) URL to post the result to.',
    });
  }
  let url: URL | undefined;
  try {
    url = new URL(Buffer.from(encoded, 'base64').toString('utf8'));
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new AppError('INVALID_PARAMETER', {
      detail:
        '"return_url" must be base64 of an http:// or https:// URL, e.g. base64("https://example.org/results").',
    });
  }
  const authToken = body?.auth_token;
  if (typeof authToken !== 'string' || authToken.length === 0 || authToken.length > 1000) {
    throw new AppError('INVALID_PARAMETER', {
      detail:
        'An async run needs "auth_token" (1 to 1000 characters); it is sent back in the QueryAuthToken header so that your receiver can tell the result is yours.',
    });
  }
  if (/[\r\n]/.test(authToken)) {
    throw new AppError('INVALID_PARAMETER', {
      detail: '"auth_token" must not contain line breaks: it becomes an HTTP header.',
    });
  }
  return { url, authToken };
}

/**
 * The run's access level is the key owner's, as the registry has it now (so a demotion applies
 * to the very next request); nothing in the body can raise it. A trusted run is written to the
 * audit log with its code and prefetch before it starts; a registry that cannot record it gets
 * an untrusted (budgeted) run instead.
 */
async function accessOf(
  request: FastifyRequest,
  registry: KeyRegistry,
  checked: TaskSpec,
  body: Record<string, unknown> | null,
): Promise<AccessLevel> {
  if (keyOwnerOf(request).accessLevel !== 'trusted' || !registry.trustedRunStarted) {
    return 'untrusted';
  }
  const { orgId, keyId } = identityOf(request);
  // `checked` was validated first, so that the log holds runs that start, not bodies that fail to parse.
  const post = body?.post_processing as Record<string, unknown> | undefined;
  const source = typeof body?.code === 'string' ? body.code : post?.code;
  await registry.trustedRunStarted({
    orgId,
    actor: `key:${keyId}`,
    code: typeof source === 'string' ? source : checked.code,
    prefetch: JSON.stringify(checked.prefetch),
    via: `cloak POST /task/run${body?.task_id !== undefined ? ` task_id ${JSON.stringify(body.task_id)}` : ''}`,
  });
  return 'trusted';
}

export const taskRunRoutes: FastifyPluginAsync<TaskRunRoutesOptions> = async (app, opts) => {
  // The run cap is the runner's (run-cap.ts): one counter with the web API, the site and the
  // scheduler, counting each run until its sandbox work has stopped.
  app.post(
    '/task/run',
    {
      preHandler: requireKey(opts.registry, ['task_runner']),
      schema: routeDoc({
        tags: ['tasks'],
        keys: ['task_runner'],
        summary: 'Run a task: answers with its result, or 202 at once with "async_query: true"',
        body: taskRunBody,
        responses: { 200: jsonSchema(taskRunAnswer), 202: jsonSchema(asyncAccepted) },
      }),
    },
    async (request, reply) => {
      const body = request.body as Record<string, unknown> | null;
      const orgId = identityOf(request).orgId;
      const taskId = body?.task_id;
      // Ties the answer, an error answer and a delivery to the server's log lines about the run.
      const runId = randomUUID();
      reply.header(RUN_ID_HEADER, runId);
      if (String(request.headers['async_query'] ?? '').toLowerCase() !== 'true') {
        const checked = await opts.runner.validateAsync(orgId, body);
        const access = await accessOf(request, opts.registry, checked, body);
        return answer(taskId, await opts.runner.run(orgId, body, { runId }, access));
      }
      const target = readAsync(body);
      // Checked before answering, so that a bad task is a 4xx now and not a failed delivery later.
      const checked = await opts.runner.validateAsync(orgId, body);
      // Refused before the 202: run() counts the run in the same turn of the event loop.
      opts.runner.checkRunCap(orgId);
      const access = await accessOf(request, opts.registry, checked, body);
      // Writing a trusted run's audit entry awaited the air's database: checked again, so that
      // run() still counts the run in the same turn as the check.
      opts.runner.checkRunCap(orgId);
      const run = opts.runner.run(
        orgId,
        body,
        { runId, timeoutSeconds: opts.backgroundTimeoutSeconds },
        access,
      );
      const delivery = run
        .then(
          (result) => answer(taskId, result),
          (error: unknown) => ({
            task_id: taskId ?? null,
            success: false,
            error: error instanceof AppError ? error.message : 'The task run failed.',
          }),
        )
        .then(async (payload) => {
          if (opts.handoff) {
            const handedOff = await opts.handoff
              .send({ url: target.url, authToken: target.authToken, body: payload, runId })
              .then(
                () => true,
                (error: unknown) => {
                  // Not lost: this server delivers it, as without a queue.
                  request.log.warn(
                    { runId, error: (error as Error).message },
                    'the queue did not take an async result; delivering it from this server',
                  );
                  return false;
                },
              );
            if (handedOff) return;
          }
          const outcome = await deliverResult(target.url, target.authToken, payload, {
            ...opts.delivery,
            runId,
          });
          if (!outcome.delivered) {
            request.log.warn(
              {
                runId,
                taskId,
                host: target.url.host,
                attempts: outcome.attempts,
                error: outcome.lastError,
              },
              'async task result could not be delivered',
            );
          }
        });
      // A shutdown waits for the delivery, so that a run it cancels is still reported as failed.
      opts.runner.runs.follow(delivery);
      return reply.status(202).send({ success: true, task_id: taskId ?? null });
    },
  );
};
