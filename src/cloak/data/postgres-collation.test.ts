// On a PostgreSQL database whose default collation is a language's, sql tasks still compare text by code point, as SQLite does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../store/test-support.ts';
import { parseSqlTask } from '../sql-task/parse-sql-task.ts';
import type { CloakDataStore } from './data-store.ts';
import { openDataStore } from './open-data-store.ts';
import { openTestStore, type TestStore } from './test-support.ts';

const ORG = 'org';
const LIMITS = { maxProperties: 100, maxTextLength: 1000 };
/** Code point order: 'B' (66) < 'a' (97) < 'b' (98); English puts 'a' < 'b' < 'B'. */
const KEYS = ['B', 'a', 'b'];

async function fill(data: CloakDataStore): Promise<void> {
  await data.createTable(ORG, { name: 't', columns: [{ name: 'k', type: 'text' }] });
  await data.setLookupTable(
    ORG,
    'same',
    KEYS.map((k) => [k, k]),
  );
  await data.insert(ORG, Object.fromEntries(KEYS.map((k, i) => [`u${i}`, { t: [{ k }] }])));
}

async function below(data: CloakDataStore, condition: string): Promise<string[]> {
  const query = parseSqlTask(
    `SELECT k, count(DISTINCT user) FROM t WHERE ${condition} < 'b' GROUP BY k`,
  );
  const values: string[] = [];
  for await (const batch of data.streamSqlGroups(ORG, query, LIMITS)) {
    for (const user of batch) if (user.ok) values.push(...user.properties.map((p) => p[1]));
  }
  return values.sort();
}

describe('text comparisons of a sql task on an English-collated PostgreSQL database', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let postgres: CloakDataStore;
  let sqlite: TestStore;

  beforeAll(async () => {
    database = await createTestDatabase('oc_collation', 'en');
    postgres = await openDataStore(database.url);
    sqlite = await openTestStore();
    await fill(postgres);
    await fill(sqlite.data);
  });

  afterAll(async () => {
    await postgres?.close();
    await database?.drop();
    sqlite?.close();
  });

  it('orders columns and lookup values by code point, as SQLite does', async () => {
    for (const condition of [
      'k',
      "lookup('same', k)",
      "CASE WHEN k = 'B' THEN 'B' WHEN k = 'a' THEN 'a' ELSE 'b' END",
    ]) {
      expect(await below(sqlite.data, condition), condition).toEqual(['B', 'a']);
      expect(await below(postgres, condition), condition).toEqual(['B', 'a']);
    }
  });
});
