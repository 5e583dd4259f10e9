// The queue's database gone in the middle of a run: the run fails with a clear error, publishes nothing and charges nobody.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { userKey } from '../../src/anonymizer/index.ts';
import { noiseSecretPath, openQueue } from '../../src/cloak/index.ts';
import { AppError } from '../../src/errors/index.ts';
import { createDatabase, openCoordinator, testQueueSettings } from './support.ts';

const ORG = 'acme';

describe('a run whose queue database disappears', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'opencloak-dist-lost-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('fails with RUN_QUEUE_UNAVAILABLE, naming the queue without its password', async () => {
    const database = await createDatabase();
    const settings = testQueueSettings(database.url);
    const coordinator = await openCoordinator(root, settings, 2, {
      privacy: { releaseSchedule: false },
    });
    const { cloak } = coordinator;
    try {
      await cloak.data.createTable(ORG, { name: 't', columns: [{ name: 'v', type: 'integer' }] });
      await cloak.data.insert(ORG, {
        a: { t: [{ v: 1 }] },
        b: { t: [{ v: 2 }] },
        c: { t: [{ v: 3 }] },
      });
      // No worker runs: the coordinator waits on its shards until the database goes.
      const run = cloak.runner.run(ORG, {
        code: `report_property('v', tables.t[0].v > 0)`,
        prefetch: [{ table: 't' }],
      });
      const outcome = run.then(
        () => undefined,
        (error: unknown) => error,
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await database.drop();
      const error = await outcome;
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('RUN_QUEUE_UNAVAILABLE');
      expect((error as AppError).message).toContain(
        `127.0.0.1:5432${new URL(settings.url).pathname}`,
      );
      expect((error as AppError).message).toContain('nothing was published');
      // Nothing was settled: nobody's budget moved.
      const secret = new Uint8Array(readFileSync(noiseSecretPath(root)));
      for (const user of ['a', 'b', 'c']) {
        expect(await cloak.budget!.spent(ORG, userKey(secret, user))).toBe(0);
      }
    } finally {
      await coordinator.close();
      await database.drop();
    }
  }, 120_000);

  it('refuses to start on a queue it cannot reach, naming it without its password', async () => {
    const url = 'postgres://postgres:do-not-show@127.0.0.1:1/opencloak';
    const error = await openQueue(testQueueSettings(url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('QUEUE_UNREACHABLE');
    expect((error as AppError).message).toContain('127.0.0.1:1/opencloak');
    expect((error as AppError).message).not.toContain('do-not-show');
  });
});
