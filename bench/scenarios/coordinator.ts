// Scenario: the coordinator's part of a distributed run (merge partials, settle, anonymize) vs one sandbox core.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { userKey } from '../../src/anonymizer/index.ts';
import { openCloak, type Cloak } from '../../src/cloak/index.ts';
import { PartialBuilder, replayPartial } from '../../src/cloak/distributed/shard-partial.ts';
import type { ShardFeeder } from '../../src/cloak/distributed/index.ts';
import { RunCap } from '../../src/cloak/run-cap.ts';
import { buildConfig, type ConfigInput } from '../../src/config/index.ts';
import { DEMO_TABLES, syntheticBatches } from '../../src/demo/synthetic-data.ts';
import type { BenchSize, Scenario } from '../harness.ts';
import { BATCH_TASK_CODE, BATCH_TASK_PREFETCH } from './batch-task.ts';

/*
 * Why this pairing. In server mode the sandbox spreads over workers, and what stays in one process
 * per run is the coordinator: it parses every shard's partial, replays each user's buckets into
 * the run's aggregator and budget collection, settles the participation budget in one
 * transaction and anonymizes. The ratio says how many sandbox cores one coordinator keeps up
 * with: the number docs/scale-out.md builds its model on.
 */

const ORG = 'bench-org';
const SHARDS = 8;
/** Three buckets per user, as the batch task reports (age bracket, city, average purchase). */
const CITIES = 40;
const USERS: Record<BenchSize, number> = { small: 50_000, full: 500_000 };
const SANDBOX_USERS: Record<BenchSize, number> = { small: 5_000, full: 20_000 };
const SETTINGS: ConfigInput = {
  privacy: { releaseSchedule: false },
  cloak: { sandboxProcesses: 1 },
};

/** The shards' answers as the queue hands them over: JSON text, one per shard. */
function partials(users: number): string[] {
  const secret = new Uint8Array(32).fill(7);
  const builders = Array.from({ length: SHARDS }, () => new PartialBuilder());
  for (let u = 0; u < users; u++) {
    builders[u % SHARDS]!.add(userKey(secret, `user-${u}`), {
      ok: true,
      properties: [
        ['age', String(10 * (u % 8))],
        ['city', `city-${(u * 7) % CITIES}`],
        ['average purchase', String(25 * (u % 20))],
      ],
    });
  }
  return builders.map((b) => JSON.stringify(b.partial));
}

/** A feeder with every shard already back: the run does only the coordinator's work. */
function prebuilt(shards: string[]): ShardFeeder {
  return {
    async feed(_run, feed) {
      for (const text of shards) feed.onUsers?.(replayPartial(JSON.parse(text), feed.count));
    },
  };
}

async function withCloak<T>(
  options: Parameters<typeof openCloak>[1],
  use: (cloak: Cloak) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-coord-'));
  const cloak = await openCloak(buildConfig({ ...SETTINGS, dataDir: dir }), options);
  try {
    return await use(cloak);
  } finally {
    await cloak.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function usersPerSecond(cloak: Cloak, users: number): Promise<number> {
  const started = process.hrtime.bigint();
  await cloak.runner.run(ORG, { code: BATCH_TASK_CODE, prefetch: BATCH_TASK_PREFETCH });
  return users / (Number(process.hrtime.bigint() - started) / 1e9);
}

export const coordinatorScenario: Scenario = {
  name: 'coordinator',
  description: `users/s of a distributed run's coordinator alone (${SHARDS} shard partials of 3 buckets per user: parse, replay, budget settlement, anonymization) vs the sandbox's users/s on one core`,
  better: 'higher',
  sides: {
    figure: async (size) => {
      const users = USERS[size];
      const shards = partials(users);
      const bytes = shards.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
      const feeder = prebuilt(shards);
      const value = await withCloak(
        { serverMode: { shards: feeder, runCap: new RunCap(2) } },
        async (cloak) => {
          // The tables exist (the run checks its prefetch), empty: the users come from the shards.
          for (const table of DEMO_TABLES) await cloak.data.createTable(ORG, table);
          return usersPerSecond(cloak, users);
        },
      );
      return {
        value,
        unit: 'users/s',
        notes: { users, partialBytesPerUser: Math.round(bytes / users) },
      };
    },
    baseline: async (size) => {
      const users = SANDBOX_USERS[size];
      const value = await withCloak(undefined, async (cloak) => {
        for (const table of DEMO_TABLES) await cloak.data.createTable(ORG, table);
        for (const batch of syntheticBatches(users, 5000)) await cloak.data.insert(ORG, batch);
        return usersPerSecond(cloak, users);
      });
      return { value, unit: 'users/s', notes: { users } };
    },
  },
};
