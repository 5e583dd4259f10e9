// Processes that open one fresh queue at the same moment all get it (pg-boss's setup taken in turn).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, testQueueSettings } from '../../../test/server-mode/support.ts';
import { openQueue, SHARD_QUEUE } from './queue.ts';

describe('opening the queue', () => {
  let database: Awaited<ReturnType<typeof createDatabase>>;

  beforeAll(async () => {
    database = await createDatabase();
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('succeeds for six openers at once on a database that has no queue schema yet', async () => {
    const settings = testQueueSettings(database.url);
    const opened = await Promise.allSettled(Array.from({ length: 6 }, () => openQueue(settings)));
    const bosses = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    try {
      expect(opened.filter((o) => o.status === 'rejected').map((o) => String(o.reason))).toEqual(
        [],
      );
      expect(await bosses[0]!.getQueue(SHARD_QUEUE)).toMatchObject({ name: SHARD_QUEUE });
    } finally {
      await Promise.all(bosses.map((b) => b.stop({ graceful: false, wait: true })));
    }
  }, 60_000);
});
