// sql tasks through every interface: web REST API, cloak API, web site (save and try it), and the CLI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import {
  analystSession,
  errorCode,
  loginToSite,
  type SiteClient,
} from '../support/site-session.ts';

const QUERY = 'SELECT size, count(DISTINCT user) AS users FROM purchases GROUP BY size';

describe('sql tasks', () => {
  let inst: TestInstallation;
  let key: TestKey;
  let runner: TestKey;
  let site: SiteClient;

  beforeAll(async () => {
    inst = await startTestInstallation({ privacy: { participationBudget: false } });
    const orgId = await inst.createOrg('Querying');
    // Another organisation's table, which no query of the first may reach.
    const other = await inst.createOrg('Other');
    await inst.platform.cloak.data.createTable(other, {
      name: 'secrets',
      columns: [{ name: 'size', type: 'text' }],
    });
    key = await inst.issueKey(orgId, 'web_api');
    runner = await inst.issueKey(orgId, 'task_runner');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'purchases',
      columns: [
        { name: 'size', type: 'text' },
        { name: 'amount', type: 'double' },
      ],
    });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < 200; u++) {
      rows[`u${u}`] = {
        purchases: [{ size: u < 100 ? 'small' : 'large', amount: u < 100 ? 50 : 150 }],
      };
    }
    await inst.platform.cloak.data.insert(orgId, rows);
    const first = inst.platform.initialAdmin!;
    const admin = await loginToSite(inst, first.email, first.password);
    site = await analystSession(inst, admin, orgId, 'sam@query.test');
  });
  afterAll(() => inst.stop());

  it('are saved without a prefetch, run, and published in the seed format', async () => {
    const created = await inst.web('/api/tasks', {
      key,
      body: { name: 'sizes', language: 'sql', code: QUERY },
    });
    expect(created.status).toBe(201);
    expect(created.json.task).toMatchObject({
      language: 'sql',
      code: QUERY,
      prefetch: [{ table: 'purchases' }],
    });
    const run = await inst.web(`/api/tasks/${created.json.task.token}/run`, {
      key,
      method: 'POST',
    });
    expect(run.status).toBe(200);
    const results = await inst.web(`/api/task_results/${created.json.task.id}`, { key });
    expect(results.json).toMatchObject({ success: true, count: 1, page: 1, per_page: 10 });
    const names = results.json.items[0].buckets.map((b: { name: string }) => b.name).sort();
    expect(names).toEqual(['size: large', 'size: small']);
  });

  it('refuse what is outside the subset with the construct and position, and save nothing', async () => {
    for (const [code, message] of [
      [
        'SELECT size, count(*) FROM purchases GROUP BY size',
        /line 1, column 14: count\(\*\) is not supported/,
      ],
      [
        'SELECT size, count(DISTINCT user) FROM secrets GROUP BY size',
        /line 1, column 40: there is no table named "secrets" \(tables: purchases\)/,
      ],
      [
        "SELECT size, count(DISTINCT user) FROM purchases WHERE amount = 'x' GROUP BY size",
        /line 1, column 65: "amount" is number, so compare it with a number constant/,
      ],
    ] as const) {
      const bad = await inst.web('/api/tasks', {
        key,
        body: { name: 'bad', language: 'sql', code },
      });
      expect(bad.status, code).toBe(422);
      expect(bad.json.success).toBe(false);
      expect(bad.json.error).toMatch(message);
    }
    const list = await inst.web('/api/tasks', { key });
    expect(list.json.tasks.map((t: { name: string }) => t.name)).not.toContain('bad');
    const streaming = await inst.web('/api/tasks', {
      key,
      body: {
        name: 'live',
        language: 'sql',
        code: QUERY,
        type: 'streaming',
        schedule: { report_interval: 60, user_expire_interval: 3600 },
      },
    });
    expect(streaming.status).toBe(422);
    expect(streaming.json.error).toMatch(/a sql task is "batch" or "periodic"/);
    const noPrefetch = await inst.web('/api/tasks', {
      key,
      body: { name: 'js', code: 'report_property("a", 1);' },
    });
    expect(noPrefetch.json.error).toMatch(/"prefetch": list at least one table/);
  });

  it('run on the cloak API in the seed body, with the language beside the code', async () => {
    const response = await inst.cloak('/task/run', {
      key: runner,
      body: { prefetch: [], post_processing: { code: QUERY, language: 'sql' } },
    });
    expect(response.status).toBe(200);
    expect(response.json.buckets.map((b: { value: string }) => b.value).sort()).toEqual([
      'large',
      'small',
    ]);
    const filtered = await inst.cloak('/task/run', {
      key: runner,
      body: {
        prefetch: [{ table: 'purchases', where: [{ $$amount: { $gt: 100 } }] }],
        post_processing: { code: QUERY, language: 'sql' },
      },
    });
    expect(filtered.status).toBe(422);
    expect(filtered.json.error).toMatch(/put filters in WHERE/);
  });

  it('are saved and tried on the web site, the query running on test users only', async () => {
    const created = await site('/api/site/tasks', {
      body: { name: 'site sizes', language: 'sql', code: QUERY },
    });
    expect(created.status).toBe(201);
    const tried = await site('/api/site/tasks/try', {
      body: {
        language: 'sql',
        code: 'SELECT size, floor(amount / 100) * 100 AS band, count(DISTINCT user) FROM purchases GROUP BY 1, 2',
        users: [
          { id: 'test-1', tables: { purchases: [{ size: 'tiny', amount: 7 }, { amount: 250 }] } },
          { id: 'test-2', tables: {} },
        ],
      },
    });
    expect(tried.status).toBe(200);
    expect(tried.json.users).toEqual([
      {
        id: 'test-1',
        ok: true,
        properties: [
          ['size, band', 'null, 200'],
          ['size, band', 'tiny, 0'],
        ],
      },
      { id: 'test-2', ok: true, properties: [] },
    ]);
    const badRow = await site('/api/site/tasks/try', {
      body: {
        language: 'sql',
        code: QUERY,
        users: [{ id: 't', tables: { purchases: [{ amount: 'lots' }] } }],
      },
    });
    expect(errorCode(badRow)).toBe('INVALID_VALUE');
  });
});

describe('sql tasks on the command line', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-cli-sql-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (...args: string[]) =>
    execFileSync(
      process.execPath,
      [
        path.resolve(import.meta.dirname, '../../bin/opencloak.mjs'),
        '--data-dir',
        path.join(dir, 'data'),
        ...args,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: dir },
    );

  it('creates a task from a .sql file and runs it', () => {
    cli('org', 'create', 'Acme');
    cli('table', 'create', '--org', 'Acme', 'visits', 'city:text');
    const upload: Record<string, unknown> = {};
    for (let u = 0; u < 100; u++) upload[`u${u}`] = { visits: [{ city: 'Oslo' }] };
    writeFileSync(path.join(dir, 'visits.json'), JSON.stringify(upload));
    cli('upload', '--org', 'Acme', path.join(dir, 'visits.json'));
    writeFileSync(
      path.join(dir, 'cities.sql'),
      'SELECT city, count(DISTINCT user)\nFROM visits\nGROUP BY city\n',
    );
    const created = JSON.parse(
      cli(
        'task',
        'create',
        '--org',
        'Acme',
        '--name',
        'cities',
        '--code-file',
        'cities.sql',
        '--json',
      ),
    );
    const result = JSON.parse(cli('task', 'run', String(created.id), '--org', 'Acme', '--json'));
    expect(result.buckets.map((b: { name: string }) => b.name)).toEqual(['city: Oslo']);
    // Five CLI processes, each loading the TypeScript sources: slow on a busy machine.
  }, 240_000);
});
