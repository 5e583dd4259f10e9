// Stored results: the pre-rendered API item, including results stored before it existed.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAirStore, type AirStore } from './index.ts';

describe('result store', () => {
  let store: AirStore;
  let dir: string;
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function setup() {
    dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-results-'));
    store = openAirStore(dir);
    const org = store.organisations.create('Org');
    return store.tasks.create(org.id, { name: 't', type: 'batch', code: '', prefetch: [] });
  }

  it('serves the item rendered at publication, identical to rendering it on demand', () => {
    const task = setup();
    store.results.publish(
      task.id,
      1,
      { buckets: [{ label: 'h', value: '', count: 10 }], exceptions: [{ error: 'E', count: 5 }] },
      1000,
    );
    expect(store.results.pageApiItems(task.id, 1, 10).map((i) => JSON.parse(i.json))).toEqual([
      {
        published_at: 1000,
        buckets: [{ name: 'h', value: 10 }],
        exceptions: [{ error: 'E', count: 5 }],
      },
    ]);
  });

  it('renders and keeps the item of a result stored before the api_item column existed', () => {
    const task = setup();
    store.db
      .prepare(
        'INSERT INTO results (task_id, published_at, code_version, buckets, exceptions) VALUES (?, ?, 1, ?, ?)',
      )
      .run(task.id, 2000, JSON.stringify([{ label: 'city', value: 'Oslo', count: 15 }]), '[]');
    expect(JSON.parse(store.results.pageApiItems(task.id, 1, 10)[0]!.json)).toEqual({
      published_at: 2000,
      buckets: [{ name: 'city: Oslo', value: 15 }],
      exceptions: [],
    });
    const kept = store.db
      .prepare('SELECT api_item FROM results WHERE task_id = ?')
      .get(task.id) as { api_item: string };
    expect(JSON.parse(kept.api_item).buckets[0].name).toBe('city: Oslo');
  });
});
