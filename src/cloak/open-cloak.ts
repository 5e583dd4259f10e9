// Opens the cloak: its databases, data store, budget, release schedule, runner and streaming engine.
import type { OpenCloakConfig } from '../config/index.ts';
import type { SqlDb, SqliteSqlDb } from '../store/index.ts';
import { SandboxProcessCache, TASKS_PER_SANDBOX_PROCESS } from '../sandbox/index.ts';
import { openCloakDatabases } from './cloak-databases.ts';
import { openDataStore, PostgresDataStore, type CloakDataStore } from './data/index.ts';
import { checkInstallationSecret } from './installation-secret.ts';
import { loadOrCreateNoiseSecret, noiseSecretPath } from './noise-secret.ts';
import { ParticipationBudget } from './participation-budget.ts';
import { ReleaseSchedule } from './release-schedule.ts';
import { StreamingEngine } from './streaming/streaming-engine.ts';
import { TaskRunner, type RunCapLike } from './task-runner.ts';
import type { ShardFeeder } from './distributed/index.ts';

export interface Cloak {
  data: CloakDataStore;
  runner: TaskRunner;
  /** Per-(organisation, user) participation budget, undefined when configured off. */
  budget: ParticipationBudget | undefined;
  /** When run answers may leave the cloak, undefined when configured off. */
  release: ReleaseSchedule | undefined;
  /** Streaming tasks' per-user state and reports. */
  streaming: StreamingEngine;
  /** Idle sandbox processes between an organisation's runs; closing the cloak ends them. */
  sandboxProcesses: SandboxProcessCache;
  /** Throws unless cloak.db, and the PostgreSQL database of `cloak.store` if any, answer (readiness). */
  ping(): Promise<void>;
  /**
   * cloak.db behind the async seam. Every async store of the cloak that uses cloak.db must use this
   * one wrapper: it is what keeps their transactions on the one connection from overlapping.
   */
  sql: SqliteSqlDb;
  /** Closes cloak.db at once; resolves when a PostgreSQL pool, if any, has ended too. */
  close(): Promise<void>;
}

export interface OpenCloakOptions {
  /**
   * Says what data the rest of the data directory holds (e.g. "rows in organisations of air.db"),
   * if any: with data there or in the cloak's databases, a missing noise secret stops the open
   * (noise-secret.ts).
   */
  otherData?: () => string | undefined;
  /** Server mode (distributed/): runs' users go to workers, the run cap lives in the database. */
  serverMode?: { shards: ShardFeeder; runCap: RunCapLike };
}

/**
 * The cloak keeps its data in its own databases, which only cloak code opens (cloak-databases.ts):
 *
 * - embedded default: everything in cloak.db in the data directory: user rows, the budget's
 *   ledger, the release epochs, the streaming state;
 * - `cloak.store` a PostgreSQL URL (server mode): user rows and all that bookkeeping in that
 *   database, through one pool, so that every API server of the installation charges one ledger,
 *   raises one epoch per organisation and runs each streaming pass once; cloak.db stays, empty,
 *   for the noise secret check (data an older embedded installation left there);
 * - `cloak.store` a SQLite file: user rows there, the bookkeeping in cloak.db.
 *
 * The noise secret is a file of the data directory in every case (secrets/noise.key): servers that
 * share a PostgreSQL store must each have the same copy.
 */
export async function openCloak(
  config: Readonly<OpenCloakConfig>,
  options: OpenCloakOptions = {},
): Promise<Cloak> {
  const store = config.cloak.store;
  const databases = openCloakDatabases(config.dataDir, store);
  const { local, shared } = databases;
  // The budget, release epochs and streaming state: cloak.db, or the pool every server shares.
  const bookkeeping: SqlDb = shared ?? local;
  let data: CloakDataStore | undefined;
  const fail = async (error: unknown): Promise<never> => {
    // Only a store at a SQLite `cloak.store` has a database of its own to close.
    if (data && store !== undefined && !shared) await data.close();
    await databases.close();
    throw error;
  };
  let secret: Uint8Array;
  try {
    databases.checkNothingLeftLocal();
    const found = await databases.describeData();
    secret = loadOrCreateNoiseSecret(config.dataDir, () => found ?? options.otherData?.());
    if (shared) await checkInstallationSecret(shared, secret, noiseSecretPath(config.dataDir));
    data = shared
      ? await PostgresDataStore.open(borrowed(shared), store!)
      : await openDataStore(store ?? local);
  } catch (error) {
    return fail(error);
  }
  const budget = config.privacy.participationBudget
    ? new ParticipationBudget(bookkeeping, {
        rho: config.privacy.participationRho,
        secret,
        periodDays: config.privacy.budgetPeriodDays,
      })
    : undefined;
  const release = config.privacy.releaseSchedule
    ? openReleaseSchedule(bookkeeping, config)
    : undefined;
  const sandboxProcesses = new SandboxProcessCache({
    maxIdle: config.cloak.sandboxProcesses,
    idleMs: config.cloak.idleSandboxSeconds * 1000,
    maxTasks: TASKS_PER_SANDBOX_PROCESS,
  });
  const runner = new TaskRunner(data, {
    secret,
    processCache: sandboxProcesses,
    budget,
    ...(release ? { release } : {}),
    limits: { ...config.sandbox },
    runTimeoutSeconds: config.cloak.taskTimeoutSeconds,
    processes: config.cloak.sandboxProcesses,
    maxRunsPerOrganisation: config.cloak.maxRunsPerOrganisation,
    ...(options.serverMode ?? {}),
  });
  const streaming = new StreamingEngine(bookkeeping, data, runner, {
    secret,
    processes: config.cloak.sandboxProcesses,
    ...(budget ? { budget } : {}),
  });
  // On cloak.db the bookkeeping stores migrate in a transaction on its one connection: until it
  // has committed, a caller's first write would join it (and a close roll both back). Awaited
  // here, a database that cannot be migrated also stops the open, not the first run.
  try {
    await Promise.all([budget?.ready(), release?.ready(), streaming.ready()]);
  } catch (error) {
    return fail(error);
  }
  const opened = data;
  return {
    data: opened,
    runner,
    budget,
    release,
    streaming,
    sandboxProcesses,
    ping: () => databases.ping(),
    sql: local,
    close: async () => {
      // The default store shares cloak.db's connection and PostgreSQL's the pool, both closed by
      // `databases`; only a SQLite file at `cloak.store` has a connection of its own.
      const own = store !== undefined && !shared ? opened.close() : undefined;
      await Promise.all([own, databases.close(), sandboxProcesses.close()]);
    },
  };
}

/** The pool for the data store, which closes what it opened: here the pool is openCloak's to end. */
function borrowed(db: SqlDb): SqlDb {
  return { ...db, close: async () => undefined };
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
