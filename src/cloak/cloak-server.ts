// Assembles the cloak API server: TLS with client certificates, gzip bodies, and the route plugins.
import type { FastifyInstance } from 'fastify';
import {
  acceptGzipBodies,
  createHttpsApp,
  healthRoutes,
  registerOpenApi,
  tlsOptions,
  type KeyRegistry,
  type LogOptions,
  type ServerOps,
  type ServerTls,
  type ServiceKeyRegistry,
} from '../http/index.ts';
import type { AirService } from './air-service.ts';
import type { CloakDataStore } from './data/index.ts';
import type { DeliveryHandoff } from './result-delivery.ts';
import { CLOAK_API_COMPONENTS } from './routes/api-schemas.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { serviceRoutes } from './routes/service.ts';
import { SERVICE_COMPONENTS } from './routes/service-schemas.ts';
import { tableRoutes } from './routes/tables.ts';
import { taskRunRoutes } from './routes/task-run.ts';
import type { TaskRunner } from './task-runner.ts';

export interface CloakServerOptions {
  data: CloakDataStore;
  runner: TaskRunner;
  registry: KeyRegistry;
  tls: ServerTls;
  bodyLimitBytes: number;
  logger: boolean | LogOptions;
  /** Readiness for /readyz and the request metrics (docs/operations.md). */
  ops?: ServerOps;
  /** What the air on another host calls (/service routes), and the service keys it may use. */
  service: { api: AirService; keys: ServiceKeyRegistry };
  /** The cloak settings that shape runs on this API. */
  runs: {
    backgroundTimeoutSeconds: number;
    deliveryAttempts: number;
    /** First retry delay of a failed delivery; tests shorten it. */
    deliveryFirstDelayMs?: number;
    /** Server mode: async results go to the queue, delivered by any server (delivery-queue.ts). */
    deliveries?: DeliveryHandoff;
  };
}

export async function createCloakServer(options: CloakServerOptions): Promise<FastifyInstance> {
  const app = createHttpsApp({
    ...tlsOptions(options.tls, options.registry),
    bodyLimit: options.bodyLimitBytes,
    logger: options.logger,
    ...(options.ops?.onAnswered ? { onAnswered: options.ops.onAnswered } : {}),
  });
  acceptGzipBodies(app);
  await registerOpenApi(
    app,
    {
      title: 'OpenCloak cloak API',
      description:
        'Uploads, table definitions, lookup tables and task runs on the trusted cloak. docs/api.md and docs/data-plane.md explain each endpoint.',
    },
    [...CLOAK_API_COMPONENTS, ...SERVICE_COMPONENTS],
  );
  await app.register(healthRoutes, { ...(options.ops?.probe ? { probe: options.ops.probe } : {}) });
  const { data, runner, registry } = options;
  await app.register(ingestRoutes, { data, registry });
  await app.register(tableRoutes, { data, registry });
  const { runs } = options;
  await app.register(taskRunRoutes, {
    runner,
    registry,
    backgroundTimeoutSeconds: runs.backgroundTimeoutSeconds,
    delivery: { attempts: runs.deliveryAttempts, firstDelayMs: runs.deliveryFirstDelayMs ?? 1000 },
    ...(runs.deliveries ? { handoff: runs.deliveries } : {}),
  });
  await app.register(serviceRoutes, {
    service: options.service.api,
    serviceKeys: options.service.keys,
    registry,
  });
  return app;
}
