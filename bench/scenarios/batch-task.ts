// Scenario: a batch task end to end in the sandbox vs the same task as plain trusted JavaScript.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { anonymize, BucketAggregator, userKey } from '../../src/anonymizer/index.ts';
import { openCloak } from '../../src/cloak/index.ts';
import { buildConfig } from '../../src/config/index.ts';
import type { Scenario } from '../harness.ts';

const ORG = 'bench-org';
const ROWS_PER_USER = 10;
const CODE = `
let total = 0;
for (const e of tables.events) { total += e.amount; if (e.kind === "purchase") report_property("buys", "yes"); }
report_property("spend", Utils.quantize(total, 100));
`;
const PREFETCH = [{ table: 'events' }];

function usersFor(size: 'small' | 'full') {
  return size === 'full' ? 100_000 : 20_000;
}

/** Both sides read the same rows from the same kind of cloak database, filled before timing. */
function filledCloak(users: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-'));
  const cloak = openCloak(buildConfig({ dataDir: dir }));
  cloak.data.createTable(ORG, {
    name: 'events',
    columns: [
      { name: 'kind', type: 'varchar(16)' },
      { name: 'amount', type: 'double' },
    ],
  });
  for (let start = 0; start < users; start += 5000) {
    const batch: Record<string, unknown> = {};
    for (let u = start; u < Math.min(users, start + 5000); u++) {
      batch[`user-${u}`] = {
        events: Array.from({ length: ROWS_PER_USER }, (_, i) => ({
          kind: i % 3 === 0 ? 'purchase' : 'view',
          amount: ((u * 13 + i * 7) % 500) / 10,
        })),
      };
    }
    cloak.data.insert(ORG, batch);
  }
  return {
    cloak,
    done() {
      cloak.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const batchTaskScenario: Scenario = {
  name: 'batch-task',
  description: `a task over N users x ${ROWS_PER_USER} rows, sandboxed end to end vs plain JavaScript over the same rows`,
  better: 'higher',
  // "sandboxed costs no more than 3 times plain JavaScript" = figure/baseline users/s >= 1/3.
  targetRatio: 1 / 3,
  targetValue: 20_000,
  sides: {
    async figure(size) {
      const users = usersFor(size);
      const { cloak, done } = filledCloak(users);
      try {
        const started = process.hrtime.bigint();
        const result = await cloak.runner.run(ORG, { code: CODE, prefetch: PREFETCH });
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        return {
          value: users / seconds,
          unit: 'users/s',
          notes: { buckets: result.buckets.length },
        };
      } finally {
        done();
      }
    },
    async baseline(size) {
      const users = usersFor(size);
      const { cloak, done } = filledCloak(users);
      try {
        const secret = new Uint8Array(32).fill(1);
        const started = process.hrtime.bigint();
        // Trusted JavaScript: the same code as a plain function, no isolation, same aggregation.
        const aggregator = new BucketAggregator();
        const Utils = { quantize: (n: number, q: number) => Math.floor(n / q) * q };
        const task = new Function('tables', 'report_property', 'Utils', CODE) as (
          tables: unknown,
          report: (l: unknown, v: unknown) => void,
          utils: typeof Utils,
        ) => void;
        for (const user of cloak.data.streamUsers(ORG, PREFETCH)) {
          const key = userKey(secret, user.userId);
          const seen = new Set<string>();
          task(
            user.tables,
            (label, value) => {
              const l = String(label);
              const v = String(value);
              if (!seen.has(`${l}\u0000${v}`)) {
                seen.add(`${l}\u0000${v}`);
                aggregator.addProperty(l, v, key);
              }
            },
            Utils,
          );
        }
        const result = anonymize(aggregator, secret);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        return {
          value: users / seconds,
          unit: 'users/s',
          notes: { buckets: result.buckets.length },
        };
      } finally {
        done();
      }
    },
  },
};
