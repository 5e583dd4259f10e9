// Server-mode test plumbing: a fresh PostgreSQL database per test file, worker child processes, a coordinator.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  noiseSecretPath,
  openCloak,
  openQueue,
  SharedRunCap,
  ShardCoordinator,
  type Cloak,
  type QueueSettings,
} from '../../src/cloak/index.ts';
import { Scheduler } from '../../src/air/index.ts';
import { buildConfig, type ConfigInput } from '../../src/config/index.ts';
import { openPlatform, openServerMode, type OpenedPlatform } from '../../src/platform/index.ts';
import { createTestDatabase } from '../../src/store/test-support.ts';
import { cliCommand } from '../support/server-process.ts';

/** A database of its own (oc_dist_<random>), dropped by `drop`. */
export function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  return createTestDatabase('oc_dist');
}

/**
 * Short timeouts, so that a killed worker's shard comes back within seconds; long enough that a
 * live worker's shard on a loaded 2-core machine is never taken for lost.
 */
export function testQueueSettings(url: string, shardTimeoutSeconds = 60): QueueSettings {
  return { url, shardTimeoutSeconds, shardRetries: 3, pollingSeconds: 0.5 };
}

/**
 * The configuration a worker child process reads (--config): the same queue settings, and the
 * cloak's data store when it is given (`cloak.store`).
 */
export function writeWorkerConfig(
  dir: string,
  settings: QueueSettings,
  store?: string,
  name = 'worker-config.json',
): string {
  const file = path.join(dir, name);
  const { url: _url, ...queue } = settings;
  const cloak = store === undefined ? {} : { cloak: { store } };
  writeFileSync(file, JSON.stringify({ queue: { ...queue, workerProcesses: 1 }, ...cloak }));
  return file;
}

/**
 * A worker's data directory on another host: the server's noise secret alone, copied as an
 * operator does (docs/server-mode.md, "Workers on other hosts"), readable by its owner only.
 */
export function secretOnlyDataDir(serverDataDir: string, to: string): string {
  const file = noiseSecretPath(to);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  copyFileSync(noiseSecretPath(serverDataDir), file);
  chmodSync(file, 0o600);
  return to;
}

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves once the worker has written `pattern`. */
  waitFor(pattern: RegExp): Promise<void>;
}

/** `opencloak worker` as a real process; resolves once it takes jobs. */
export async function startWorker(
  dataDir: string,
  configFile: string,
  url: string,
  /** More options of `opencloak worker`, e.g. ['--store', url]. */
  args: readonly string[] = [],
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    cliCommand(['--data-dir', dataDir, '--config', configFile, 'worker', '--queue', url, ...args]),
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const waiters: Array<{ pattern: RegExp; resolve(): void }> = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const w of [...waiters]) {
      if (w.pattern.test(output)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const worker: WorkerProcess = {
    child,
    output: () => output,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        if (pattern.test(output)) return resolve();
        waiters.push({ pattern, resolve });
        child.once('exit', (code, signal) =>
          reject(new Error(`worker exited (${code ?? signal}):\n${output}`)),
        );
      }),
  };
  await worker.waitFor(/worker is running/);
  return worker;
}

/** Stops workers (SIGKILL: a test's workers have nothing to finish) and waits for their exit. */
export async function stopWorkers(workers: readonly WorkerProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
          w.child.once('exit', () => resolve());
          w.child.kill('SIGKILL');
        }),
    ),
  );
}

/** A coordinator: the cloak of `dataDir` with its runs sent to the queue in `shards` shards. */
export async function openCoordinator(
  dataDir: string,
  settings: QueueSettings,
  shards: number,
  overrides: ConfigInput = {},
): Promise<{ cloak: Cloak; close(): Promise<void> }> {
  const boss = await openQueue(settings);
  const runCap = new SharedRunCap(settings.url, 2);
  const cloak = await openCloak(buildConfig({ ...overrides, dataDir }), {
    serverMode: { shards: new ShardCoordinator(boss, { settings, shards }), runCap },
  });
  return {
    cloak,
    async close() {
      await cloak.close();
      await boss.stop({ graceful: false, wait: true });
      await runCap.close();
    },
  };
}

/** A platform (air and cloak, no servers) with a scheduler that only the test ticks. */
export interface TestPlatform {
  platform: OpenedPlatform;
  scheduler: Scheduler;
  close(): Promise<void>;
}

/** The embedded default's platform of `dataDir`. */
export async function openEmbeddedPlatform(
  dataDir: string,
  overrides: ConfigInput = {},
): Promise<TestPlatform> {
  const platform = await openPlatform(buildConfig({ ...overrides, dataDir }));
  return {
    platform,
    scheduler: new Scheduler(platform.air, platform.tasks),
    close: () => platform.close(),
  };
}

/**
 * The platform of `dataDir` in server mode, opened as `opencloak start --queue` opens it (queue,
 * shared run cap, period lease; start-platform.ts) but without its servers and timers.
 */
export async function openServerPlatform(
  dataDir: string,
  settings: QueueSettings,
  shards: number,
  overrides: ConfigInput = {},
): Promise<TestPlatform> {
  const config = buildConfig({ ...overrides, dataDir, queue: { ...settings, shards } });
  const serverMode = (await openServerMode(config))!;
  let platform: OpenedPlatform;
  try {
    platform = await openPlatform(config, serverMode.cloakOptions);
  } catch (error) {
    await serverMode.close();
    throw error;
  }
  return {
    platform,
    scheduler: new Scheduler(platform.air, platform.tasks, {}, serverMode.lease),
    async close() {
      await platform.close();
      await serverMode.close();
    },
  };
}

/** A copy of a prepared data directory, so that every mode starts from the same data and budget. */
export function copyDataDir(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}
