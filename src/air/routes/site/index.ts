// The analyst web site's API under /api/site: every route needs a login session (and CSRF token).
import type { FastifyPluginAsync } from 'fastify';
import type { CloakPort } from '../../cloak-port.ts';
import type { KeyService } from '../../key-service.ts';
import type { AirStore } from '../../store/index.ts';
import type { TaskService } from '../../task-service.ts';
import { requireSession } from '../auth.ts';
import { siteAdminRoutes } from './admin.ts';
import { siteBudgetRoutes } from './budget.ts';
import { siteKeyRoutes } from './keys.ts';
import { siteTableRoutes } from './tables.ts';
import { siteTaskRoutes } from './tasks.ts';

export interface SiteRoutesOptions {
  store: AirStore;
  tasks: TaskService;
  keys: KeyService;
  cloak: CloakPort;
  maxPerPage: number;
}

export const siteRoutes: FastifyPluginAsync<SiteRoutesOptions> = async (app, opts) => {
  // Hooks added here apply to every route this plugin registers (fastify encapsulation).
  app.addHook('preHandler', requireSession(opts.store));
  await app.register(siteKeyRoutes, { store: opts.store, keys: opts.keys });
  await app.register(siteTableRoutes, { cloak: opts.cloak, store: opts.store });
  await app.register(siteTaskRoutes, opts);
  await app.register(siteBudgetRoutes, { tasks: opts.tasks, cloak: opts.cloak });
  await app.register(siteAdminRoutes, { store: opts.store });
};
