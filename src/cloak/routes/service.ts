// Cloak API /service routes: the air on another host reaches the cloak here, with its service key.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { z } from 'zod';
import { AppError } from '../../errors/index.ts';
import {
  jsonSchema,
  okAnswer,
  parseBody,
  requireServiceKey,
  routeDoc,
  type KeyRegistry,
  type ServiceKeyRegistry,
} from '../../http/index.ts';
import type { RunControl, TaskSpec } from '../../shared/index.ts';
import type { AirService } from '../air-service.ts';
import * as shapes from './service-schemas.ts';

export interface ServiceRoutesOptions {
  service: AirService;
  serviceKeys: ServiceKeyRegistry;
  /** The analysts' key registry, told about refused requests for the audit log. */
  registry: KeyRegistry;
}

/** The header that carries an error's catalogue code, so that the air can raise the same error. */
export const ERROR_CODE_HEADER = 'opencloak-error-code';

/**
 * Every route is a POST with a JSON body naming the organisation (`org_id`): the cloak takes it
 * from the service credential's caller only, which is the air that has checked its own login or
 * key first. Analyst keys get a 403 on every route here (requireServiceKey).
 */
export const serviceRoutes: FastifyPluginAsync<ServiceRoutesOptions> = async (app, opts) => {
  const { service } = opts;
  const preHandler = requireServiceKey(opts.serviceKeys, opts.registry);
  // Scoped to this plugin: analysts' answers keep the seed's error shape and nothing more.
  app.addHook('onError', async (_request, reply, error) => {
    if (error instanceof AppError) void reply.header(ERROR_CODE_HEADER, error.code);
  });
  const route = <S extends z.ZodType>(
    path: string,
    summary: string,
    body: S,
    answer: z.ZodType | string,
    handle: (input: z.infer<S>, reply: FastifyReply) => Promise<unknown>,
  ) =>
    app.post(
      `/service/${path}`,
      {
        preHandler,
        schema: routeDoc({
          tags: ['service'],
          keys: ['air_service'],
          summary,
          body,
          responses: { 200: typeof answer === 'string' ? okAnswer : jsonSchema(answer) },
        }),
      },
      async (request, reply) => handle(parseBody(body, request.body), reply),
    );

  route(
    'validate',
    'Check a task against the tables; answers the code to run and the checked prefetch',
    shapes.validateBody,
    shapes.specAnswer,
    async ({ org_id, spec }) => ({
      success: true,
      spec: await service.validateTask(org_id, specOf(spec)),
    }),
  );

  route(
    'run-cap',
    'Refuses (429) when the organisation already has its cap of runs in progress',
    shapes.orgBody,
    'ok',
    async ({ org_id }) => {
      await service.checkRunCap(org_id);
      return { success: true };
    },
  );

  route(
    'run',
    'Run a task and answer its anonymized result; closing the connection cancels the run',
    shapes.runBody,
    shapes.resultAnswer,
    async ({ org_id, spec, access, timeout_seconds }, reply) => ({
      success: true,
      result: await service.runTask(
        org_id,
        specOf(spec),
        cancelledWithConnection(reply, timeout_seconds),
        access,
      ),
    }),
  );

  route(
    'preview',
    'A cost preview: the run settled against the budget and rolled back; only its notice answers',
    shapes.runBody,
    shapes.previewAnswer,
    async ({ org_id, spec, access, timeout_seconds }, reply) => ({
      success: true,
      preview: await service.previewTask(
        org_id,
        specOf(spec),
        cancelledWithConnection(reply, timeout_seconds),
        access,
      ),
    }),
  );

  route(
    'budget',
    "The organisation's participation budget as it may be shown (null when it is off)",
    shapes.budgetBody,
    shapes.budgetStateAnswer,
    async ({ org_id, limit }) => ({
      success: true,
      state: (await service.budgetState(org_id, limit)) ?? null,
    }),
  );

  route(
    'streaming',
    'Start, change (spec) or stop (spec null) a streaming task',
    shapes.streamingBody,
    'ok',
    async ({ org_id, task_key, spec }) => {
      await service.setStreamingTask(org_id, task_key, spec && specOf(spec));
      return { success: true };
    },
  );

  route(
    'streaming/report',
    "A streaming task's report: its users' latest properties, anonymized",
    shapes.streamingReportBody,
    shapes.resultAnswer,
    async ({ org_id, task_key, user_expire_seconds }) => ({
      success: true,
      result: await service.streamingReport(org_id, task_key, user_expire_seconds),
    }),
  );

  route(
    'try',
    'Try a task on made-up test users (no real rows are read); outcomes are not anonymized',
    shapes.tryBody,
    shapes.tryAnswer,
    async ({ org_id, spec, users }) => ({
      success: true,
      outcomes: await service.tryTask(org_id, specOf(spec), users),
    }),
  );

  route(
    'tables/list',
    "The organisation's tables",
    shapes.orgBody,
    shapes.tablesAnswer,
    async ({ org_id }) => ({
      success: true,
      tables: await service.listTables(org_id),
    }),
  );

  route(
    'tables/define',
    'Define a table',
    shapes.defineTableBody,
    shapes.tableAnswer,
    async ({ org_id, definition }) => ({
      success: true,
      table: await service.defineTable(org_id, definition),
    }),
  );

  route(
    'tables/alter',
    'Add or drop columns',
    shapes.alterTableBody,
    shapes.tableAnswer,
    async ({ org_id, name, change }) => ({
      success: true,
      table: await service.alterTable(org_id, name, change),
    }),
  );

  route(
    'tables/drop',
    'Drop a table and its rows',
    shapes.dropTableBody,
    'ok',
    async ({ org_id, name }) => {
      await service.dropTable(org_id, name);
      return { success: true };
    },
  );

  route(
    'user-counts',
    "Each table's number of users, anonymized (null when suppressed)",
    shapes.orgBody,
    shapes.userCountsAnswer,
    async ({ org_id }) => ({ success: true, counts: await service.userCounts(org_id) }),
  );
};

/**
 * The schema checks the spec's outline only: every entry point of the cloak (TaskRunner.validate)
 * checks each prefetch entry against the tables, with errors that name it, before anything runs.
 */
function specOf(spec: z.infer<typeof shapes.taskSpec>): TaskSpec {
  return spec as unknown as TaskSpec;
}

/**
 * The air cancels a run by closing its request (its own run was cancelled, or it stopped): the
 * connection closing before the answer was sent aborts the run, which then publishes nothing.
 */
function cancelledWithConnection(reply: FastifyReply, timeoutSeconds?: number): RunControl {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return {
    signal: controller.signal,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
  };
}
