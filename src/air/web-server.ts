// Assembles the web REST API server (air): TLS with client certificates and the route plugins.
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import {
  createHttpsApp,
  healthRoutes,
  registerOpenApi,
  tlsOptions,
  type KeyRegistry,
  type LogOptions,
  type ServerOps,
  type ServerTls,
} from '../http/index.ts';
import type { CheckBudgetLimits } from './auth/check-budget.ts';
import type { CloakPort } from './cloak-port.ts';
import type { KeyService } from './key-service.ts';
import { WEB_API_COMPONENTS } from './routes/api-schemas.ts';
import { authRoutes } from './routes/auth.ts';
import { budgetRoutes } from './routes/budget.ts';
import { resultRoutes } from './routes/results.ts';
import { siteRoutes } from './routes/site/index.ts';
import { taskRoutes } from './routes/tasks.ts';
import { installRoot } from '../shared/index.ts';
import type { AirStore } from './store/index.ts';
import type { TaskService } from './task-service.ts';

export interface WebServerOptions {
  store: AirStore;
  tasks: TaskService;
  keys: KeyService;
  cloak: CloakPort;
  registry: KeyRegistry;
  tls: ServerTls;
  maxPerPage: number;
  loginBudget: CheckBudgetLimits;
  logger: boolean | LogOptions;
  /** Readiness for /readyz and the request metrics (docs/operations.md). */
  ops?: ServerOps;
}

const WEB_BODY_LIMIT = 1024 * 1024;

/** The analyst web site, built from web/ by `npm run build:web` (npm start and npm test run it). */
export const SITE_DIR = path.join(installRoot(), 'dist/web/');

/** The site loads nothing from elsewhere; CodeMirror sets inline styles, nothing runs inline. */
const SITE_CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export async function createWebServer(options: WebServerOptions): Promise<FastifyInstance> {
  const app = createHttpsApp({
    ...tlsOptions(options.tls, options.registry),
    bodyLimit: WEB_BODY_LIMIT,
    logger: options.logger,
    ...(options.ops?.onAnswered ? { onAnswered: options.ops.onAnswered } : {}),
  });
  const { store, tasks, registry } = options;
  await registerOpenApi(
    app,
    {
      title: 'OpenCloak web REST API',
      description:
        "An organisation's tasks and their anonymized results (web_api keys), and the web site's login. docs/api.md explains each endpoint.",
    },
    WEB_API_COMPONENTS,
  );
  await app.register(healthRoutes, { ...(options.ops?.probe ? { probe: options.ops.probe } : {}) });
  await app.register(fastifyCookie);
  await app.register(authRoutes, { store, loginBudget: options.loginBudget });
  await app.register(resultRoutes, { store, tasks, registry, maxPerPage: options.maxPerPage });
  await app.register(taskRoutes, { store, tasks, registry });
  await app.register(budgetRoutes, { tasks, cloak: options.cloak, registry });
  await app.register(siteRoutes, {
    store,
    tasks,
    keys: options.keys,
    cloak: options.cloak,
    maxPerPage: options.maxPerPage,
  });
  if (existsSync(SITE_DIR)) {
    await app.register(fastifyStatic, {
      root: SITE_DIR,
      wildcard: false,
      setHeaders: (res) => {
        res.setHeader('content-security-policy', SITE_CSP);
        res.setHeader('x-content-type-options', 'nosniff');
      },
    });
  }
  return app;
}
