// The same data and secret give byte-identical published results with the cloak's rows in cloak.db or in PostgreSQL.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noiseSecretPath, openCloak, type Cloak } from '../../src/cloak/index.ts';
import { buildConfig } from '../../src/config/index.ts';
import { createTestDatabase } from '../../src/store/test-support.ts';

const ORG = 'org';
const USERS = 400;

async function fill(cloak: Cloak): Promise<void> {
  await cloak.data.createTable(ORG, {
    name: 'people',
    columns: [
      { name: 'age', type: 'integer' },
      { name: 'city', type: 'text' },
    ],
  });
  await cloak.data.createTable(ORG, {
    name: 'buys',
    columns: [{ name: 'amount', type: 'double' }],
  });
  await cloak.data.setLookupTable(ORG, 'regions', [
    ['Berlin', 'east'],
    ['Paris', 'west'],
  ]);
  const payload: Record<string, unknown> = {};
  for (let u = 0; u < USERS; u++) {
    payload[`user-${u}`] = {
      people: [{ age: 20 + (u % 37), city: ['Berlin', 'Paris', 'Oslo'][u % 3] }],
      buys: Array.from({ length: u % 4 }, (_, i) => ({ amount: (u * 7 + i) % 50 })),
    };
  }
  await cloak.data.insert(ORG, payload);
}

const TASKS = [
  {
    code: "for (const p of tables.people) { report_property('decade', Math.floor(p.age / 10) * 10); report_property('region', lookup('regions', p.city)); }",
    prefetch: [{ table: 'people' }],
  },
  {
    code: "if (tables.buys.length > 0) report_property('last', tables.buys[tables.buys.length - 1].amount > 25)",
    prefetch: [
      { table: 'buys', user_rows: 1 },
      { table: 'people', where: [{ $$age: { $gte: 30 } }] },
    ],
  },
  {
    code: 'SELECT city, count(DISTINCT user) FROM people WHERE age >= 25 GROUP BY city',
    language: 'sql',
  },
];

describe('the cloak on SQLite and on PostgreSQL', () => {
  let dirs: string[] = [];
  let embedded: Cloak;
  let server: Cloak;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    dirs = [0, 1].map(() => mkdtempSync(path.join(os.tmpdir(), 'opencloak-store-eq-')));
    const database = await createTestDatabase('oc_sd_eq');
    drop = database.drop;
    const config = (dir: string, store?: string) =>
      buildConfig({
        dataDir: dir,
        privacy: { releaseSchedule: false },
        cloak: { sandboxProcesses: 1, ...(store ? { store } : {}) },
      });
    embedded = await openCloak(config(dirs[0]!));
    // One installation secret for both: the same question must draw the same noise.
    mkdirSync(path.dirname(noiseSecretPath(dirs[1]!)), { recursive: true, mode: 0o700 });
    copyFileSync(noiseSecretPath(dirs[0]!), noiseSecretPath(dirs[1]!));
    server = await openCloak(config(dirs[1]!, database.url));
    expect(server.data.dialect).toBe('postgres');
    await fill(embedded);
    await fill(server);
  });

  afterAll(async () => {
    await embedded?.close();
    await server?.close();
    await drop?.();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes byte-identical results for the same runs, budget charged on both', async () => {
    for (const task of TASKS) {
      const fromSqlite = await embedded.runner.run(ORG, task);
      const fromPostgres = await server.runner.run(ORG, task);
      expect(fromSqlite.buckets.length).toBeGreaterThan(0);
      expect(JSON.stringify(fromPostgres)).toBe(JSON.stringify(fromSqlite));
    }
  });
});
