// `opencloak start --cloak-only --queue …`: the cloak API of a split installation sends its runs to workers too.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/index.ts';
import { startCloakOnly, type RunningCloak } from '../../src/platform/index.ts';
import { request, type TestKey } from '../support/https-client.ts';
import {
  createDatabase,
  startWorker,
  stopWorkers,
  testQueueSettings,
  writeWorkerConfig,
  type WorkerProcess,
} from './support.ts';

const PASSWORD = 'test-password';

describe('a cloak started alone in server mode', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let cloak: RunningCloak;
  let key: TestKey;
  const workers: WorkerProcess[] = [];
  const root = mkdtempSync(path.join(os.tmpdir(), 'opencloak-cloak-only-'));

  beforeAll(async () => {
    database = await createDatabase();
    const dataDir = path.join(root, 'data');
    cloak = await startCloakOnly(
      buildConfig({
        dataDir,
        cloak: { port: 0 },
        queue: { url: database.url, pollingSeconds: 0.5, shards: 2 },
        privacy: { releaseSchedule: false },
      }),
    );
    const { platform } = cloak;
    const orgId = (await platform.air.organisations.create('Split')).id;
    const issued = await platform.keys.create(orgId, {
      type: 'task_runner',
      description: 'test',
      password: PASSWORD,
    });
    key = { pfx: issued.pfx, passphrase: PASSWORD };
    await platform.cloak.data.createTable(orgId, {
      name: 'visits',
      columns: [{ name: 'page', type: 'text' }],
    });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < 100; u++) rows[`u${u}`] = { visits: [{ page: 'home' }] };
    await platform.cloak.data.insert(orgId, rows);
    const settings = testQueueSettings(database.url);
    workers.push(await startWorker(dataDir, writeWorkerConfig(root, settings), database.url));
  }, 120_000);

  afterAll(async () => {
    await stopWorkers(workers);
    await cloak?.stop();
    await database?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('runs a task on the worker', async () => {
    const answer = await request(`${cloak.cloakUrl}/task/run`, cloak.platform.pki.ca.certPem, {
      key,
      body: {
        prefetch: [{ table: 'visits' }],
        post_processing: { code: 'report_property("page", tables.visits[0].page);' },
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.json.buckets).toMatchObject([{ label: 'page', value: 'home' }]);
    // Both shards went to the worker: the run was not done in the cloak's own process.
    await workers[0]!.waitFor(
      /shard 1\/2 done[\s\S]*shard 2\/2 done|shard 2\/2 done[\s\S]*shard 1\/2 done/,
    );
  }, 120_000);
});
