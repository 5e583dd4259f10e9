// Stored results: the pre-rendered API item, including results stored before it existed, on both dialects.
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DIALECTS, type TestDb } from '../../store/test-support.ts';
import { airStoreOn, type AirStore } from './index.ts';

describe.each(TEST_DIALECTS)('result store on $dialect', ({ open }) => {
  let store: AirStore;
  let testDb: TestDb;
  afterEach(() => testDb.cleanup());

  async function setup() {
    testDb = await open();
    store = await airStoreOn(testDb.db);
    const org = await store.organisations.create('Org');
    return store.tasks.create(org.id, { name: 't', type: 'batch', code: '', prefetch: [] });
  }

  it('serves the item rendered at publication, identical to rendering it on demand', async () => {
    const task = await setup();
    await store.results.publish(
      task.id,
      1,
      { buckets: [{ label: 'h', value: '', count: 10 }], exceptions: [{ error: 'E', count: 5 }] },
      1000,
    );
    expect(
      (await store.results.pageApiItems(task.id, 1, 10)).map((i) => JSON.parse(i.json)),
    ).toEqual([
      {
        published_at: 1000,
        buckets: [{ name: 'h', value: 10 }],
        exceptions: [{ error: 'E', count: 5 }],
      },
    ]);
  });

  it('renders and keeps the item of a result stored before the api_item column existed', async () => {
    const task = await setup();
    await store.db.run(
      'INSERT INTO results (task_id, published_at, code_version, buckets, exceptions) VALUES (?, ?, 1, ?, ?)',
      [task.id, 2000, JSON.stringify([{ label: 'city', value: 'Oslo', count: 15 }]), '[]'],
    );
    expect(JSON.parse((await store.results.pageApiItems(task.id, 1, 10))[0]!.json)).toEqual({
      published_at: 2000,
      buckets: [{ name: 'city: Oslo', value: 15 }],
      exceptions: [],
    });
    const kept = await store.db.get<{ api_item: string }>(
      'SELECT api_item FROM results WHERE task_id = ?',
      [task.id],
    );
    expect(JSON.parse(kept!.api_item).buckets[0].name).toBe('city: Oslo');
  });
});
