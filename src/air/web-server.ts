// Assembles the web REST API server (air): TLS with client certificates and the route plugins.
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import { createHttpsApp, tlsOptions, type KeyRegistry, type ServerTls } from '../http/index.ts';
import { authRoutes } from './routes/auth.ts';
import { resultRoutes } from './routes/results.ts';
import { taskRoutes } from './routes/tasks.ts';
import type { AirStore } from './store/index.ts';
import type { TaskService } from './task-service.ts';

export interface WebServerOptions {
  store: AirStore;
  tasks: TaskService;
  registry: KeyRegistry;
  tls: ServerTls;
  maxPerPage: number;
  logger: boolean | { level: string };
}

const WEB_BODY_LIMIT = 1024 * 1024;

export async function createWebServer(options: WebServerOptions): Promise<FastifyInstance> {
  const app = createHttpsApp({
    ...tlsOptions(options.tls, options.registry),
    bodyLimit: WEB_BODY_LIMIT,
    logger: options.logger,
  });
  const { store, tasks, registry } = options;
  await app.register(fastifyCookie);
  await app.register(authRoutes, { store });
  await app.register(resultRoutes, { store, tasks, registry, maxPerPage: options.maxPerPage });
  await app.register(taskRoutes, { store, tasks, registry });
  return app;
}
