// "Try it" for a sql task: the lookup tables it names, wherever it names them, exist (empty) in the scratch store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SANDBOX_LIMITS } from '../../sandbox/index.ts';
import { openTestStore, type TestStore } from '../data/test-support.ts';
import { trySqlTask } from './try-sql-task.ts';

const ORG = 'org';

describe('trying a sql task on test users', () => {
  let t: TestStore;

  beforeAll(async () => {
    t = await openTestStore();
    await t.data.createTable(ORG, {
      name: 'visits',
      columns: [
        { name: 'city', type: 'text' },
        { name: 'code', type: 'text' },
      ],
    });
    for (const name of ['in_case', 'in_where', 'in_subject']) {
      await t.data.setLookupTable(ORG, name, [['DE', 'real data, never read by "try it"']]);
    }
  });
  afterAll(() => t?.close());

  it('finds lookups in CASE conditions, results and subjects and in WHERE', async () => {
    const code = `SELECT CASE WHEN lookup('in_case', code) IS NULL THEN city END AS a,
        CASE lookup('in_subject', code) WHEN 'x' THEN 1 END AS b, count(DISTINCT user)
      FROM visits WHERE lookup('in_where', code) IS NULL GROUP BY a, b`;
    const users = [{ id: 'u', tables: { visits: [{ city: 'Oslo', code: 'DE' }] } }];
    expect(await trySqlTask(t.data, ORG, code, users, DEFAULT_SANDBOX_LIMITS)).toEqual([
      { id: 'u', ok: true, properties: [['a, b', 'Oslo, null']] },
    ]);
  });
});
