// Public surface of src/cloak (trusted): opens the cloak's data, task runner and API server.
import path from 'node:path';
import type { OpenCloakConfig } from '../config/index.ts';
import {
  describeData,
  openDatabase,
  sqliteSqlDb,
  type SqlDb,
  type SqliteSqlDb,
} from '../store/index.ts';
import { openDataStore, type CloakDataStore } from './data/index.ts';
import { loadOrCreateNoiseSecret } from './noise-secret.ts';
import { ParticipationBudget } from './participation-budget.ts';
import { ReleaseSchedule } from './release-schedule.ts';
import { StreamingEngine } from './streaming/streaming-engine.ts';
import { TaskRunner, type RunCapLike } from './task-runner.ts';
import type { ShardFeeder } from './distributed/index.ts';

export { createCloakServer, type CloakServerOptions } from './cloak-server.ts';
export { airService, type AirService } from './air-service.ts';
export { requireSync, type CloakDataStore } from './data/index.ts';
export { noiseSecretPath } from './noise-secret.ts';
export { TaskRunner } from './task-runner.ts';
export {
  openQueue,
  SharedRunCap,
  ShardCoordinator,
  startShardWorker,
  type QueueSettings,
  type RunningWorker,
  type WorkerOptions,
} from './distributed/index.ts';
export { ParticipationBudget } from './participation-budget.ts';
export { ReleaseSchedule, type ReleaseScheduleOptions } from './release-schedule.ts';
export {
  tryTask,
  type TestUserInput,
  type TestUserResult,
  type TryTaskOptions,
} from './try-task.ts';

export interface Cloak {
  data: CloakDataStore;
  runner: TaskRunner;
  /** Per-(organisation, user) participation budget, undefined when configured off. */
  budget: ParticipationBudget | undefined;
  /** When run answers may leave the cloak, undefined when configured off. */
  release: ReleaseSchedule | undefined;
  /** Streaming tasks' per-user state and reports. */
  streaming: StreamingEngine;
  /** Throws unless cloak.db answers a trivial query (readiness). */
  ping(): void;
  /**
   * cloak.db behind the async seam. Every async store of the cloak must use this one wrapper: it
   * is what keeps their transactions on the one connection from overlapping.
   */
  sql: SqliteSqlDb;
  close(): void;
}

/** cloak.db tables with rows from the first open on: the migrations' records and the id counter. */
const CLOAK_BOOKKEEPING = ['schema_migrations', 'data_schema_migrations', 'data_sequence'];

export interface OpenCloakOptions {
  /**
   * Says what data the rest of the data directory holds (e.g. "rows in organisations of air.db"),
   * if any: with data there or in cloak.db, a missing noise secret stops the open (noise-secret.ts).
   */
  otherData?: () => string | undefined;
  /** Server mode (distributed/): runs' users go to workers, the run cap lives in the database. */
  serverMode?: { shards: ShardFeeder; runCap: RunCapLike };
}

/**
 * The cloak keeps user rows in its own database, which only cloak code opens: cloak.db in the data
 * directory, or the PostgreSQL database `cloak.store` names (server mode). Its bookkeeping (budget,
 * release schedule, streaming state) stays in cloak.db until those stores move behind the seam.
 */
export async function openCloak(
  config: Readonly<OpenCloakConfig>,
  options: OpenCloakOptions = {},
): Promise<Cloak> {
  const db = openDatabase(path.join(config.dataDir, 'cloak.db'));
  let secret: Uint8Array;
  try {
    secret = loadOrCreateNoiseSecret(
      config.dataDir,
      () => describeData(db, 'cloak.db', CLOAK_BOOKKEEPING) ?? options.otherData?.(),
    );
  } catch (error) {
    db.close();
    throw error;
  }
  // One async wrapper over cloak.db for every store that uses it: it is what keeps their
  // transactions on the one connection from overlapping (a second wrapper would not know them).
  const sql = sqliteSqlDb(db);
  let data: CloakDataStore;
  try {
    data = await openDataStore(config.cloak.store ?? sql);
  } catch (error) {
    db.close();
    throw error;
  }
  const budget = config.privacy.participationBudget
    ? new ParticipationBudget(sql, {
        rho: config.privacy.participationRho,
        secret,
        periodDays: config.privacy.budgetPeriodDays,
      })
    : undefined;
  const release = config.privacy.releaseSchedule ? openReleaseSchedule(sql, config) : undefined;
  const runner = new TaskRunner(data, {
    secret,
    budget,
    ...(release ? { release } : {}),
    limits: { ...config.sandbox },
    runTimeoutSeconds: config.cloak.taskTimeoutSeconds,
    processes: config.cloak.sandboxProcesses,
    maxRunsPerOrganisation: config.cloak.maxRunsPerOrganisation,
    ...(options.serverMode ?? {}),
  });
  const streaming = new StreamingEngine(sql, data, runner, {
    secret,
    processes: config.cloak.sandboxProcesses,
    ...(budget ? { budget } : {}),
  });
  // The bookkeeping stores migrate in a transaction on cloak.db's one connection: until it has
  // committed, a caller's first write would join it (and a close roll both back). Awaited here,
  // a database that cannot be migrated also stops the open, not the first run.
  try {
    await Promise.all([budget?.ready(), release?.ready(), streaming.ready()]);
  } catch (error) {
    db.close();
    throw error;
  }
  return {
    data,
    runner,
    budget,
    release,
    streaming,
    ping: () => void db.prepare('SELECT 1').get(),
    sql,
    close: () => {
      // The default store shares cloak.db's connection, closed here; one at `cloak.store` has its own.
      if (config.cloak.store !== undefined) void data.close();
      db.close();
    },
  };
}

/**
 * The highest epoch is the first whose slot reaches the longest whole-run limit even for the
 * smallest tables: from there every run is answered at its limit, so no run can be slower still.
 */
function openReleaseSchedule(db: SqlDb, config: Readonly<OpenCloakConfig>): ReleaseSchedule {
  const { releaseBaseMs: baseMs, releasePerUserMs: perUserMs } = config.privacy;
  const longestMs =
    1000 * Math.max(config.cloak.taskTimeoutSeconds, config.cloak.backgroundTaskTimeoutSeconds);
  const maxEpoch = Math.max(0, Math.ceil(Math.log2(longestMs / (baseMs + perUserMs))));
  const decayMs = config.privacy.releaseEpochDecayHours * 3_600_000;
  return new ReleaseSchedule(db, { baseMs, perUserMs, maxEpoch, decayMs });
}
