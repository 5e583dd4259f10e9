// A streaming task whose report fails (a remote cloak restarted and forgot it) is registered again at the next sync.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskSpec } from '../shared/index.ts';
import type { CloakPort } from './cloak-port.ts';
import { openAirStore, type AirStore } from './store/index.ts';
import { TaskService } from './task-service.ts';

describe('streaming tasks after a cloak forgot them', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-resync-'));
  let store: AirStore;
  beforeAll(async () => {
    store = await openAirStore(dir);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells the cloak again at the next sync, and then reports', async () => {
    const registered = new Set<string>();
    const port = {
      validateTask: async (_orgId: string, spec: TaskSpec) => spec,
      setStreamingTask: async (_orgId: string, key: string, spec: TaskSpec | null) => {
        if (spec) registered.add(key);
        else registered.delete(key);
      },
      streamingReport: async (_orgId: string, key: string) => {
        if (!registered.has(key)) throw new Error(`streaming task ${key} is not registered`);
        return { buckets: [], exceptions: [] };
      },
    } as unknown as CloakPort;
    const tasks = new TaskService(store, port);
    const orgId = (await store.organisations.create('Acme')).id;
    const task = await tasks.create(orgId, {
      name: 'pages',
      type: 'streaming',
      code: 'report_property("p", 1)',
      prefetch: [{ table: 't' }],
      schedule: { report_interval: 60, user_expire_interval: 3600 },
    });
    await tasks.publishStreaming(task);

    registered.clear(); // the cloak restarted
    await expect(tasks.publishStreaming(task)).rejects.toThrow(/not registered/);
    await tasks.syncStreamingTasks();
    expect(registered.has(task.token)).toBe(true);
    await expect(tasks.publishStreaming(task)).resolves.toMatchObject({ taskId: task.id });
  });
});
