// Scenario: distinct users per city as a task (sandbox + anonymizer) vs the same count directly in SQLite.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCloak } from '../../src/cloak/index.ts';
import { buildConfig } from '../../src/config/index.ts';
import type { Scenario } from '../harness.ts';

const ORG = 'bench-org';
const ROWS_PER_USER = 10;
export const CITIES = [
  'Berlin',
  'Paris',
  'Madrid',
  'Rome',
  'Vienna',
  'Warsaw',
  'Lisbon',
  'Prague',
  'Oslo',
  'Dublin',
];
const CODE = 'for (const v of tables.visits) report_property("city", v.city);';

function usersFor(size: 'small' | 'full') {
  return size === 'full' ? 100_000 : 10_000;
}

function cityOf(user: number, row: number) {
  return CITIES[(user * 7 + row * 3) % CITIES.length]!;
}

/** The same rows through the cloak's own insert path, so both sides read the same database layout. */
async function filledCloak(users: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-'));
  // The work, not when its answer may leave: the release schedule only waits (idle) for its
  // slot, which would measure the schedule's prediction instead of the sandbox's cost.
  const cloak = await openCloak(buildConfig({ dataDir: dir, privacy: { releaseSchedule: false } }));
  await cloak.data.createTable(ORG, {
    name: 'visits',
    columns: [{ name: 'city', type: 'varchar(32)' }],
  });
  for (let start = 0; start < users; start += 5000) {
    const batch: Record<string, unknown> = {};
    for (let u = start; u < Math.min(users, start + 5000); u++) {
      batch[`user-${u}`] = {
        visits: Array.from({ length: ROWS_PER_USER }, (_, i) => ({ city: cityOf(u, i) })),
      };
    }
    await cloak.data.insert(ORG, batch);
  }
  return { dir, cloak };
}

export const sqlCountScenario: Scenario = {
  name: 'sql-count',
  description: `distinct users per city over N users x ${ROWS_PER_USER} rows: a task end to end vs COUNT(DISTINCT) in SQLite`,
  better: 'higher',
  sides: {
    async figure(size) {
      const users = usersFor(size);
      const { dir, cloak } = await filledCloak(users);
      try {
        const started = process.hrtime.bigint();
        const result = await cloak.runner.run(ORG, { code: CODE, prefetch: [{ table: 'visits' }] });
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        return {
          value: (users * ROWS_PER_USER) / seconds,
          unit: 'rows/s',
          notes: { buckets: result.buckets.length, seconds: Number(seconds.toFixed(2)) },
        };
      } finally {
        await cloak.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async baseline(size) {
      const users = usersFor(size);
      const { dir, cloak } = await filledCloak(users);
      await cloak.close();
      try {
        // The physical table is found through the cloak's catalogue; the query is the plain SQL answer.
        const db = new Database(path.join(dir, 'cloak.db'), { readonly: true });
        const table = (
          db
            .prepare(
              "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%\"city\"%'",
            )
            .get() as { name: string }
        ).name;
        const started = process.hrtime.bigint();
        const rows = db
          .prepare(`SELECT city, COUNT(DISTINCT ac_user_id) AS users FROM "${table}" GROUP BY city`)
          .all();
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        db.close();
        return {
          value: (users * ROWS_PER_USER) / seconds,
          unit: 'rows/s',
          notes: { buckets: rows.length, seconds: Number(seconds.toFixed(2)) },
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
};
