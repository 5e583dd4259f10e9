// The access policy of SPEC.md as data: every API endpoint and the one key type that may call it.
import type { KeyType } from '../../src/shared/index.ts';
import type { TestInstallation } from './installation.ts';

export interface Endpoint {
  api: 'web' | 'cloak';
  method: string;
  path: string;
  body?: unknown;
  allowed: KeyType;
}

/** The access policy of SPEC.md, one row per endpoint: the only key type that may call it. */
export function endpoints(task: string): Endpoint[] {
  return [
    { api: 'web', method: 'GET', path: '/api/tasks', allowed: 'web_api' },
    { api: 'web', method: 'POST', path: '/api/tasks', body: {}, allowed: 'web_api' },
    { api: 'web', method: 'GET', path: `/api/tasks/${task}`, allowed: 'web_api' },
    { api: 'web', method: 'PUT', path: `/api/tasks/${task}`, body: {}, allowed: 'web_api' },
    { api: 'web', method: 'DELETE', path: '/api/tasks/qqqqqqqqqqqq', allowed: 'web_api' },
    { api: 'web', method: 'GET', path: `/api/task_results/${task}`, allowed: 'web_api' },
    { api: 'web', method: 'GET', path: `/api/tasks/${task}/results`, allowed: 'web_api' },
    { api: 'web', method: 'GET', path: `/api/tasks/${task}/results.csv`, allowed: 'web_api' },
    { api: 'web', method: 'DELETE', path: `/api/tasks/${task}/results/0`, allowed: 'web_api' },
    { api: 'web', method: 'POST', path: `/api/tasks/${task}/run`, allowed: 'web_api' },
    { api: 'web', method: 'GET', path: `/api/tasks/${task}/runs`, allowed: 'web_api' },
    { api: 'web', method: 'GET', path: `/api/tasks/${task}/runs/nope`, allowed: 'web_api' },
    { api: 'web', method: 'DELETE', path: `/api/tasks/${task}/runs/nope`, allowed: 'web_api' },
    { api: 'web', method: 'POST', path: `/api/tasks/${task}/preview`, allowed: 'web_api' },
    { api: 'web', method: 'GET', path: '/api/budget', allowed: 'web_api' },
    { api: 'cloak', method: 'POST', path: '/bulk_insert', body: {}, allowed: 'upload_any' },
    { api: 'cloak', method: 'POST', path: '/insert', body: {}, allowed: 'upload_user' },
    { api: 'cloak', method: 'POST', path: '/task/run', body: {}, allowed: 'task_runner' },
    { api: 'cloak', method: 'GET', path: '/tables', allowed: 'admin' },
    { api: 'cloak', method: 'POST', path: '/tables', body: {}, allowed: 'admin' },
    { api: 'cloak', method: 'PATCH', path: '/tables/t', body: {}, allowed: 'admin' },
    { api: 'cloak', method: 'DELETE', path: '/tables/nope', allowed: 'admin' },
    { api: 'cloak', method: 'GET', path: '/lookup_tables', allowed: 'admin' },
    { api: 'cloak', method: 'PUT', path: '/lookup_tables/l', body: [], allowed: 'admin' },
    { api: 'cloak', method: 'DELETE', path: '/lookup_tables/nope', allowed: 'admin' },
    { api: 'cloak', method: 'DELETE', path: '/users/u1', allowed: 'admin' },
  ];
}

/** An organisation with a table `t` and a batch task over it: what `endpoints(task)` needs. */
export async function orgWithTask(
  inst: TestInstallation,
  name: string,
): Promise<{ orgId: string; task: string }> {
  const orgId = await inst.createOrg(name);
  await inst.platform.cloak.data.createTable(orgId, {
    name: 't',
    columns: [{ name: 'x', type: 'integer' }],
  });
  const { token } = await inst.platform.air.tasks.create(orgId, {
    name: 'task',
    type: 'batch',
    code: 'report_property("a", 1)',
    prefetch: [{ table: 't' }],
  });
  return { orgId, task: token };
}
