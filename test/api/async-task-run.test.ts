// POST /task/run with async_query: answered at once, the result posted to return_url with retries.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKey } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

interface Delivery {
  token: string | undefined;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A local receiver that fails the first `failures` posts with 503, then records each one. */
async function startReceiver(failures: number) {
  const deliveries: Delivery[] = [];
  let attempts = 0;
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      if (attempts <= failures) {
        res.writeHead(503).end();
        return;
      }
      deliveries.push({
        token: req.headers['queryauthtoken'] as string | undefined,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      res.writeHead(200).end();
      waiters.splice(0).forEach((w) => w());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/results`;
  return {
    deliveries,
    attempts: () => attempts,
    returnUrl: Buffer.from(url).toString('base64'),
    next: () => new Promise<void>((r) => waiters.push(r)),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('async task runs on the cloak API', () => {
  let inst: TestInstallation;
  let runner: TestKey;
  const task = {
    prefetch: [{ table: 'visits' }],
    post_processing: { code: 'report_property("page", tables.visits[0].page);' },
  };

  beforeAll(async () => {
    inst = await startTestInstallation({ cloak: { deliveryFirstDelayMs: 20 } });
    const orgId = await inst.createOrg('Async');
    runner = await inst.issueKey(orgId, 'task_runner');
    await inst.platform.cloak.data.createTable(orgId, {
      name: 'visits',
      columns: [{ name: 'page', type: 'text' }],
    });
    const rows: Record<string, unknown> = {};
    // 100 users: enough for the bucket to be published (its noisy count must reach 43).
    for (let u = 0; u < 100; u++) rows[`u${u}`] = { visits: [{ page: 'home' }] };
    await inst.platform.cloak.data.insert(orgId, rows);
  });
  afterAll(() => inst.stop());

  const asyncRun = (body: unknown) =>
    inst.cloak('/task/run', { key: runner, body, headers: { async_query: 'true' } });

  it('answers at once and posts the result with QueryAuthToken, retrying a receiver that fails', async () => {
    const receiver = await startReceiver(2);
    try {
      const delivered = receiver.next();
      const response = await asyncRun({
        ...task,
        task_id: 'job-42',
        return_url: receiver.returnUrl,
        auth_token: 's3cret-token',
      });
      expect(response.status).toBe(202);
      expect(response.json).toEqual({ success: true, task_id: 'job-42' });
      await delivered;
      expect(receiver.attempts()).toBe(3);
      expect(receiver.deliveries).toHaveLength(1);
      const [delivery] = receiver.deliveries;
      expect(delivery!.token).toBe('s3cret-token');
      expect(delivery!.body.task_id).toBe('job-42');
      expect(delivery!.body.buckets).toEqual([
        { label: 'page', value: 'home', count: expect.any(Number) },
      ]);
      // The same anonymized answer as a synchronous run of the same task; the budget notice is
      // each run's own (fresh noise, the next run of the period).
      const sync = await inst.cloak('/task/run', { key: runner, body: { ...task, task_id: 7 } });
      const { budget, ...answer } = sync.json as { budget: { period_run: number } };
      const { budget: deliveredBudget, ...deliveredAnswer } = delivery!.body as typeof sync.json & {
        budget: { period_run: number };
      };
      expect(answer).toEqual({ ...deliveredAnswer, task_id: 7 });
      expect(budget.period_run).toBe(deliveredBudget.period_run + 1);
    } finally {
      await receiver.close();
    }
  });

  it('refuses a bad return_url, a missing auth_token or a bad task at once, and posts nothing', async () => {
    const receiver = await startReceiver(0);
    try {
      const plain = await asyncRun({ ...task, return_url: 'http://x', auth_token: 't' });
      expect(plain.status).toBe(422);
      expect(plain.json.error).toMatch(/base64/);
      const file = await asyncRun({
        ...task,
        return_url: Buffer.from('file:///etc/passwd').toString('base64'),
        auth_token: 't',
      });
      expect(file.status).toBe(422);
      const noToken = await asyncRun({ ...task, return_url: receiver.returnUrl });
      expect(noToken.status).toBe(422);
      expect(noToken.json.error).toMatch(/auth_token/);
      const badTask = await asyncRun({
        prefetch: [{ table: 'nope' }],
        post_processing: { code: 'report_property("a", 1)' },
        return_url: receiver.returnUrl,
        auth_token: 't',
      });
      expect(badTask.status).toBeGreaterThanOrEqual(400);
      expect(badTask.status).toBeLessThan(500);
      await new Promise((r) => setTimeout(r, 200));
      expect(receiver.attempts()).toBe(0);
    } finally {
      await receiver.close();
    }
  });
});
