// Both servers' /openapi.json describe every endpoint they document, and real answers fit it.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { OpenAPI3 } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/air/auth/password-hash.ts';
import { GENERATED, renderClientTypes } from '../../scripts/openapi-client.ts';
import { createServiceKey } from '../../src/platform/index.ts';
import { endpoints } from '../support/endpoints.ts';
import type { TestResponse } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

type Spec = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: object;
};
type ResponseDoc = { content?: Record<string, { schema: object }> };
type Operation = {
  responses: Record<string, ResponseDoc>;
  security?: Array<Record<string, string[]>>;
};

let inst: TestInstallation;
const specs: Record<'web' | 'cloak', Spec> = {} as never;
/** "web GET /api/tasks/{token}" for each operation a real answer was checked against. */
const checked = new Set<string>();
const ajv = new Ajv2020({ strict: false, allErrors: true });

/** Checks one real answer against its operation's documented answer for that status. */
function fits(api: 'web' | 'cloak', method: string, template: string, answer: TestResponse) {
  const operation = specs[api].paths[template]?.[method.toLowerCase()];
  expect(operation, `${api} ${method} ${template} is in the description`).toBeDefined();
  const status = String(answer.status);
  const doc = operation!.responses[status] ?? operation!.responses[`${status[0]}XX`];
  expect(doc, `${method} ${template} documents a ${status} (${answer.text})`).toBeDefined();
  const [type, media] = Object.entries(doc!.content ?? {})[0] ?? [];
  expect(String(answer.headers['content-type'])).toContain(type);
  if (type === 'application/json') {
    // With the description's components beside it, so that its $refs resolve.
    const validate = ajv.compile({ ...media!.schema, components: specs[api].components });
    const ok = validate(answer.json);
    expect(
      ok,
      `${method} ${template} ${status}: ${ajv.errorsText(validate.errors)}\n${answer.text}`,
    ).toBe(true);
  }
  checked.add(`${api} ${method} ${template}`);
  return answer;
}

beforeAll(async () => {
  inst = await startTestInstallation();
  for (const api of ['web', 'cloak'] as const) {
    const answer = await inst[api]('/openapi.json');
    expect(answer.status).toBe(200);
    specs[api] = answer.json as Spec;
  }
}, 60_000);

afterAll(async () => {
  await inst?.stop();
});

describe('/openapi.json', () => {
  it('is an OpenAPI 3.1 description, served without a key, of each server', () => {
    expect(specs.web.openapi).toBe('3.1.0');
    expect(specs.cloak.openapi).toBe('3.1.0');
    expect(Object.keys(specs.web.paths)).toContain('/api/task_results/{taskId}');
    expect(Object.keys(specs.cloak.paths)).toContain('/bulk_insert');
    // The web site's own session API is not part of the public description.
    expect(Object.keys(specs.web.paths).some((p) => p.startsWith('/api/site'))).toBe(false);
  });

  it('describes every endpoint of the access policy, with the one key type it accepts', () => {
    for (const endpoint of endpoints('some-task')) {
      const [, operation] =
        Object.entries(specs[endpoint.api].paths)
          .filter(([template]) =>
            new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`).test(endpoint.path),
          )
          .map(([template, ops]) => [template, ops[endpoint.method.toLowerCase()]] as const)
          .find(([, op]) => op !== undefined) ?? [];
      expect(operation, `${endpoint.method} ${endpoint.path}`).toBeDefined();
      expect(operation!.security).toEqual([{ clientCertificate: [endpoint.allowed] }]);
    }
  });

  it('is what the typed client was generated from (npm run docs:openapi regenerates it)', async () => {
    for (const api of ['web', 'cloak'] as const) {
      const generated = await renderClientTypes(api, specs[api] as unknown as OpenAPI3);
      expect(readFileSync(GENERATED[api], 'utf8'), `${GENERATED[api]} is stale`).toBe(generated);
    }
  });

  it('matches the real answers of every operation it describes', async () => {
    const org = await inst.createOrg('Acme');
    const admin = await inst.issueKey(org, 'admin');
    const uploadAny = await inst.issueKey(org, 'upload_any');
    const uploadUser = await inst.issueKey(org, 'upload_user', 'user-0');
    const runner = await inst.issueKey(org, 'task_runner');
    const web = await inst.issueKey(org, 'web_api');
    const cloak = (method: string, template: string, path: string, options = {}) =>
      inst.cloak(path, { method, ...options }).then((a) => fits('cloak', method, template, a));
    const webApi = (method: string, template: string, path: string, options = {}) =>
      inst
        .web(path, { method, key: web, ...options })
        .then((a) => fits('web', method, template, a));

    // Cloak API: tables, uploads, lookup tables, runs, forgetting a user.
    const columns = [{ name: 'height', type: 'integer' }];
    await cloak('POST', '/tables', '/tables', { key: admin, body: { name: 'people', columns } });
    await cloak('POST', '/tables', '/tables', { key: admin, body: { name: 'tmp', columns } });
    const add = { add: [{ name: 'note', type: 'text' }] };
    await cloak('PATCH', '/tables/{name}', '/tables/people', { key: admin, body: add });
    await cloak('DELETE', '/tables/{name}', '/tables/tmp', { key: admin });
    await cloak('DELETE', '/tables/{name}', '/tables/nothing', { key: admin }); // 404
    await cloak('GET', '/tables', '/tables', { key: admin });
    // Two heights of 100 users each: published whatever the installation's secret (sd 14, the
    // threshold 59), so that /task/run's answer has buckets to check.
    const users = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [
        `user-${i}`,
        { people: [{ height: 150 + (i % 2) * 30 }] },
      ]),
    );
    await cloak('POST', '/bulk_insert', '/bulk_insert', { key: uploadAny, body: users });
    await cloak('POST', '/bulk_insert', '/bulk_insert', {
      key: uploadAny,
      body: { u: { nope: [{}] } },
    }); // 422
    await cloak('POST', '/insert', '/insert', {
      key: uploadUser,
      body: { people: [{ height: 150 }] },
    });
    await cloak('PUT', '/lookup_tables/{name}', '/lookup_tables/names', {
      key: admin,
      body: [['a', 'b']],
    });
    await cloak('GET', '/lookup_tables', '/lookup_tables', { key: admin });
    await cloak('DELETE', '/lookup_tables/{name}', '/lookup_tables/names', { key: admin });
    const code = "report_property('height', tables.people[0].height);";
    const spec = { prefetch: [{ table: 'people' }], post_processing: { code } };
    const ran = await cloak('POST', '/task/run', '/task/run', {
      key: runner,
      body: { task_id: 't', ...spec },
    });
    expect(ran.json.buckets.length).toBeGreaterThan(0);
    await cloak('POST', '/task/run', '/task/run', { key: runner, body: { prefetch: [] } }); // 422
    const returnUrl = Buffer.from('https://127.0.0.1:9/never').toString('base64');
    await cloak('POST', '/task/run', '/task/run', {
      key: runner,
      headers: { async_query: 'true' },
      body: { ...spec, task_id: 'a', return_url: returnUrl, auth_token: 'x' },
    });
    await cloak('DELETE', '/users/{userId}', '/users/user-59', { key: admin });

    // Cloak API /service routes, with the air's service key (the answers fit, errors included).
    const { pem } = createServiceKey(inst.dataDir, inst.platform.pki.ca, {
      description: 'openapi',
      validDays: 1,
    });
    const air = { cert: pem, key: pem };
    const service = (path: string, body: unknown) =>
      cloak('POST', `/service/${path}`, `/service/${path}`, { key: air, body });
    const orgSpec = { org_id: org, spec: { code, prefetch: [{ table: 'people' }] } };
    await service('validate', orgSpec);
    await service('validate', { org_id: org }); // 422
    await service('run-cap', { org_id: org });
    await service('run', orgSpec);
    await service('preview', orgSpec);
    await service('budget', { org_id: org, limit: 5 });
    await service('streaming', { org_id: org, task_key: 's', spec: orgSpec.spec });
    await service('streaming/report', { org_id: org, task_key: 's', user_expire_seconds: 60 });
    await service('streaming', { org_id: org, task_key: 's', spec: null });
    await service('try', { ...orgSpec, users: [{ id: 'a', tables: { people: [{ height: 1 }] } }] });
    await service('tables/define', { org_id: org, definition: { name: 'extra', columns } });
    await service('tables/alter', { org_id: org, name: 'extra', change: add });
    await service('tables/list', { org_id: org });
    await service('tables/drop', { org_id: org, name: 'extra' });
    await service('user-counts', { org_id: org });

    // Web REST API: tasks, runs, results in both forms, budget, preview.
    const task = { name: 'heights', code, prefetch: [{ table: 'people' }] };
    const created = await webApi('POST', '/api/tasks', '/api/tasks', { body: task });
    const { token, id } = created.json.task as { token: string; id: number };
    await webApi('POST', '/api/tasks', '/api/tasks', { body: task }); // 409, name taken
    await webApi('GET', '/api/tasks', '/api/tasks');
    await webApi('GET', '/api/tasks/{token}', `/api/tasks/${token}`);
    await webApi('PUT', '/api/tasks/{token}', `/api/tasks/${token}`, {
      body: { name: 'heights 2' },
    });
    const run = await webApi('POST', '/api/tasks/{token}/run', `/api/tasks/${token}/run`, {
      body: {},
    });
    expect(run.json.result.buckets.length).toBeGreaterThan(0);
    await webApi('POST', '/api/tasks/{token}/preview', `/api/tasks/${token}/preview`, { body: {} });
    const started = await webApi('POST', '/api/tasks/{token}/run', `/api/tasks/${token}/run`, {
      body: { wait: false },
    });
    const runPath = `/api/tasks/${token}/runs/${started.json.run.id}`;
    // 200 while it runs, 409 if it already ended: both answers are documented and checked.
    await webApi('DELETE', '/api/tasks/{token}/runs/{runId}', runPath);
    await webApi('GET', '/api/tasks/{token}/runs/{runId}', runPath);
    await webApi('GET', '/api/tasks/{token}/runs', `/api/tasks/${token}/runs`);
    const seed = await webApi(
      'GET',
      '/api/task_results/{taskId}',
      `/api/task_results/${id}?page=1&per_page=10`,
    );
    expect(seed.json.items[0].budget).toBeDefined();
    await webApi('GET', '/api/task_results/{taskId}', `/api/task_results/${id}?page=0`); // 422
    const page = await webApi('GET', '/api/tasks/{token}/results', `/api/tasks/${token}/results`);
    await webApi('GET', '/api/tasks/{token}/results.csv', `/api/tasks/${token}/results.csv`);
    await webApi('GET', '/api/budget', '/api/budget?limit=5');
    const resultPath = `/api/tasks/${token}/results/${page.json.results[0].id}`;
    await webApi('DELETE', '/api/tasks/{token}/results/{resultId}', resultPath);
    await webApi('DELETE', '/api/tasks/{token}', `/api/tasks/${token}`);
    await webApi('GET', '/api/tasks/{token}', `/api/tasks/${token}`); // 404
    await webApi('GET', '/api/tasks', '/api/tasks', { key: undefined }); // 401

    // The site's login.
    const analyst = await inst.platform.air.organisations.addAnalyst(org, 'ada@example.org', 'Ada');
    await inst.platform.air.organisations.setPasswordHash(
      analyst.id,
      await hashPassword('correct horse'),
    );
    const login = await inst
      .web('/auth/login', { body: { email: 'ada@example.org', password: 'correct horse' } })
      .then((a) => fits('web', 'POST', '/auth/login', a));
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const headers = { cookie, 'x-csrf-token': login.json.csrf_token as string };
    fits('web', 'GET', '/auth/session', await inst.web('/auth/session', { headers }));
    fits(
      'web',
      'POST',
      '/auth/logout',
      await inst.web('/auth/logout', { method: 'POST', headers }),
    );

    // Health, on both servers and without a key.
    for (const api of ['web', 'cloak'] as const) {
      for (const path of ['/healthz', '/readyz']) {
        fits(api, 'GET', path, await inst[api](path, { key: undefined }));
      }
    }

    const described = (['web', 'cloak'] as const).flatMap((api) =>
      Object.entries(specs[api].paths).flatMap(([template, operations]) =>
        Object.keys(operations).map((method) => `${api} ${method.toUpperCase()} ${template}`),
      ),
    );
    expect([...checked].sort()).toEqual(described.sort());
  }, 120_000);
});
