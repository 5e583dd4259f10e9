// The worker's job loop: a job's output is recorded, and a stop that cannot wait hands the job in hand back to the queue.
import { setTimeout as sleep } from 'node:timers/promises';
import type PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, testQueueSettings } from '../../../test/server-mode/support.ts';
import { startJobLoop } from './job-loop.ts';
import { openQueue, SHARD_QUEUE } from './queue.ts';

describe('the job loop', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let boss: PgBoss;

  beforeAll(async () => {
    database = await createDatabase();
    boss = await openQueue(testQueueSettings(database.url));
  });

  afterAll(async () => {
    await boss?.stop({ graceful: false, wait: true });
    await database?.drop();
  });

  /** The job once it has left the active state. */
  async function settled(id: string) {
    for (;;) {
      const job = await boss.getJobById(SHARD_QUEUE, id);
      if (job && job.state !== 'created' && job.state !== 'active') return job;
      await sleep(50);
    }
  }

  it('completes a job with what its handler returned, and fails it with the error message', async () => {
    const loop = startJobLoop<{ n: number }>(boss, SHARD_QUEUE, { pollingSeconds: 0.5 }, (job) =>
      job.data.n > 0
        ? Promise.resolve({ doubled: job.data.n * 2 })
        : Promise.reject(new Error('not positive')),
    );
    try {
      const done = (await boss.send(SHARD_QUEUE, { n: 2 }))!;
      const failed = (await boss.send(SHARD_QUEUE, { n: -1 }, { retryLimit: 0 }))!;
      expect(await settled(done)).toMatchObject({ state: 'completed', output: { doubled: 4 } });
      expect(await settled(failed)).toMatchObject({
        state: 'failed',
        output: { message: 'not positive' },
      });
    } finally {
      await loop.stop(1000);
    }
  });

  it('fails the job in hand when stopped past its grace, and never records it later', async () => {
    /** A handler that says when it has a job and answers when told to. */
    const held = (answer: object) => {
      let started!: () => void;
      const inHand = new Promise<void>((resolve) => (started = resolve));
      let finish!: () => void;
      const handler = () => {
        started();
        return new Promise<object>((resolve) => (finish = () => resolve(answer)));
      };
      return { handler, inHand, finish: () => finish() };
    };
    const first = held({ by: 'first' });
    const stopped = startJobLoop(boss, SHARD_QUEUE, { pollingSeconds: 0.5 }, first.handler);
    const id = (await boss.send(SHARD_QUEUE, {}, { retryLimit: 1, retryDelay: 0 }))!;
    await first.inHand;
    await stopped.stop(100);
    const message = 'the worker stopped before it finished the shard';
    expect(await settled(id)).toMatchObject({ state: 'retry', output: { message } });
    // Another worker takes the retry; the first handler's late answer must not complete it.
    const second = held({ by: 'second' });
    const other = startJobLoop(boss, SHARD_QUEUE, { pollingSeconds: 0.5 }, second.handler);
    try {
      await second.inHand;
      first.finish();
      await sleep(500);
      expect(await boss.getJobById(SHARD_QUEUE, id)).toMatchObject({ state: 'active' });
      second.finish();
      expect(await settled(id)).toMatchObject({ state: 'completed', output: { by: 'second' } });
    } finally {
      await other.stop(1000);
    }
  });
});
