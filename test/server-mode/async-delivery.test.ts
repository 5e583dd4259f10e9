// An async /task/run in server mode: its shards run on a worker, and its result reaches return_url through the queue's delivery jobs.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { startReturnUrlReceiver } from '../support/return-url-receiver.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import {
  createDatabase,
  startWorker,
  stopWorkers,
  testQueueSettings,
  writeWorkerConfig,
  type WorkerProcess,
} from './support.ts';

const TOKEN = 's3cret-token-of-the-caller';

describe('an async run in server mode', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let inst: TestInstallation;
  let key: TestKey;
  const workers: WorkerProcess[] = [];
  const root = mkdtempSync(path.join(os.tmpdir(), 'opencloak-async-delivery-'));

  beforeAll(async () => {
    database = await createDatabase();
    const settings = testQueueSettings(database.url);
    inst = await startTestInstallation({
      queue: { url: database.url, pollingSeconds: 0.5, shards: 2 },
      cloak: { deliveryFirstDelayMs: 1000 },
      privacy: { releaseSchedule: false },
    });
    const orgId = await inst.createOrg('Async');
    key = await inst.issueKey(orgId, 'task_runner');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'visits',
      columns: [{ name: 'page', type: 'text' }],
    });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < 100; u++) rows[`u${u}`] = { visits: [{ page: 'home' }] };
    await inst.platform.cloak.data.insert(orgId, rows);
    workers.push(await startWorker(inst.dataDir, writeWorkerConfig(root, settings), database.url));
  }, 120_000);

  afterAll(async () => {
    await stopWorkers(workers);
    await inst?.stop();
    await database?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('is delivered once, with the caller token, from a delivery job', async () => {
    // The first attempt fails: the retry is the queue's, not this process's loop.
    const receiver = await startReturnUrlReceiver((attempt) => (attempt === 0 ? 503 : 200));
    const { seen } = receiver;
    const url = receiver.url.toString();
    try {
      const accepted = await inst.cloak('/task/run', {
        key,
        headers: { async_query: 'true' },
        body: {
          task_id: 'job-7',
          prefetch: [{ table: 'visits' }],
          post_processing: { code: 'report_property("page", tables.visits[0].page);' },
          return_url: Buffer.from(url).toString('base64'),
          auth_token: TOKEN,
        },
      });
      expect(accepted.status).toBe(202);
      await expect
        .poll(() => seen.filter((s) => s.status === 200).length, { timeout: 90_000 })
        .toBe(1);
      expect(seen.map((s) => s.status)).toEqual([503, 200]);
      expect(seen[1]!.headers['queryauthtoken']).toBe(TOKEN);
      expect(seen[1]!.body.task_id).toBe('job-7');
      // 100 users, anonymized: a noisy count near 100.
      expect(seen[1]!.body.buckets).toMatchObject([{ label: 'page', value: 'home' }]);
      expect(Math.abs(seen[1]!.body.buckets[0].count - 100)).toBeLessThanOrEqual(50);
      // It went through the queue: a delivery job exists (or was archived) for it.
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query(
          `SELECT count(*)::int AS n FROM opencloak_queue.job WHERE name = 'opencloak-delivery'
           UNION ALL SELECT count(*)::int FROM opencloak_queue.archive WHERE name = 'opencloak-delivery'`,
        );
        expect(rows.reduce((sum: number, r: { n: number }) => sum + r.n, 0)).toBe(1);
      } finally {
        await client.end();
      }
    } finally {
      await receiver.close();
    }
  }, 120_000);
});
