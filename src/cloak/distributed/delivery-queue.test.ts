// Async results in the queue: a server that stops mid-retry loses none, another delivers it once; a receiver that never answers is given up on, logged without the token.
import type PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, testQueueSettings } from '../../../test/server-mode/support.ts';
import { startReturnUrlReceiver } from '../../../test/support/return-url-receiver.ts';
import { DeliveryQueue, startDeliveryLoop, type DeliveryEvents } from './delivery-queue.ts';
import { openQueue, type QueueSettings } from './queue.ts';

const TOKEN = 'query-auth-token-4711';

describe('async deliveries through the queue', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let settings: QueueSettings;
  const bosses: PgBoss[] = [];
  const server = async () => {
    const boss = await openQueue(settings);
    bosses.push(boss);
    return boss;
  };

  beforeAll(async () => {
    database = await createDatabase();
    settings = testQueueSettings(database.url);
  });

  afterAll(async () => {
    await Promise.all(bosses.map((b) => b.stop({ graceful: false, wait: true })));
    await database?.drop();
  });

  it('are delivered once by another server when the first stops between attempts', async () => {
    let up = false;
    const target = await startReturnUrlReceiver(() => (up ? 200 : 503));
    const gaveUp: Array<Parameters<DeliveryEvents['gaveUp']>[0]> = [];
    const events: DeliveryEvents = { gaveUp: (event) => gaveUp.push(event) };
    try {
      const first = await server();
      await new DeliveryQueue(first, { attempts: 5, firstDelayMs: 1000 }).send({
        url: target.url,
        authToken: TOKEN,
        body: { task_id: 't1', success: true },
        runId: 'run-1',
      });
      const loopA = startDeliveryLoop(first, settings, events);
      await expect.poll(() => target.seen.length, { timeout: 20_000 }).toBe(1);
      // The first server goes away with the result undelivered; nothing of it is in memory now.
      await loopA.stop(1000);
      up = true;
      const loopB = startDeliveryLoop(await server(), settings, events);
      try {
        await expect
          .poll(() => target.seen.filter((s) => s.status === 200).length, { timeout: 30_000 })
          .toBe(1);
        // Delivered means done: no further attempt comes.
        await new Promise((resolve) => setTimeout(resolve, 3000));
      } finally {
        await loopB.stop(1000);
      }
      expect(target.seen.map((s) => s.status)).toEqual([503, 200]);
      const delivered = target.seen[1]!;
      expect(delivered.body).toEqual({ task_id: 't1', success: true });
      expect(delivered.headers['queryauthtoken']).toBe(TOKEN);
      expect(delivered.headers['x-opencloak-run-id']).toBe('run-1');
      expect(gaveUp).toEqual([]);
    } finally {
      await target.close();
    }
  }, 90_000);

  it('are given up after the configured attempts, reported without the token', async () => {
    const target = await startReturnUrlReceiver(() => 500);
    const gaveUp: Array<Parameters<DeliveryEvents['gaveUp']>[0]> = [];
    try {
      const boss = await server();
      await new DeliveryQueue(boss, { attempts: 2, firstDelayMs: 1000 }).send({
        url: target.url,
        authToken: TOKEN,
        body: { task_id: 't2', success: false },
        runId: 'run-2',
      });
      const loop = startDeliveryLoop(boss, settings, { gaveUp: (event) => gaveUp.push(event) });
      try {
        await expect.poll(() => gaveUp.length, { timeout: 30_000 }).toBe(1);
      } finally {
        await loop.stop(1000);
      }
      expect(target.seen.map((s) => s.status)).toEqual([500, 500]);
      expect(gaveUp[0]).toEqual({
        runId: 'run-2',
        host: target.url.host,
        attempts: 2,
        error: 'HTTP 500',
      });
      expect(JSON.stringify(gaveUp)).not.toContain(TOKEN);
    } finally {
      await target.close();
    }
  }, 90_000);
});
