// Starts the embedded default: the cloak API and the web REST API, both over TLS, in one process.
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { ensureFirstAdmin, Scheduler, type InitialCredentials } from '../air/index.ts';
import { createWebServer } from '../air/web-server.ts';
import { airService, createCloakServer } from '../cloak/index.ts';
import type { OpenCloakConfig } from '../config/index.ts';
import { redactingLogger, type LogOptions } from '../http/index.ts';
import { AppError } from '../errors/index.ts';
import {
  gracefulShutdown,
  PlatformMetrics,
  ReadinessChecks,
  startMetricsServer,
  type MetricsServer,
} from '../ops/index.ts';
import { SILENT_LOG, type OpsLog } from '../shared/index.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import { openPlatform, type OpenedPlatform } from './open-platform.ts';
import { RevocationList } from './revocation-list.ts';
import { openServerMode } from './server-mode.ts';
import { serviceKeyRegistry } from './service-keys.ts';

export interface RunningPlatform extends OpenedPlatform {
  webUrl: string;
  cloakUrl: string;
  webServer: FastifyInstance;
  cloakServer: FastifyInstance;
  /** Starts periodic tasks when due; `tick(now)` runs one check, for tests and catch-up. */
  scheduler: Scheduler;
  /** Re-signs the CRL now if a key was revoked since; resolves once both servers use it. */
  refreshRevocations(): Promise<void>;
  /** Set only on the start that created the first admin: its password is shown once. */
  initialAdmin?: InitialCredentials;
  /** The Prometheus metrics; served at `metricsUrl` when metrics.enabled. */
  metrics: PlatformMetrics;
  metricsUrl?: string;
  /** What /readyz answers on both APIs. */
  readiness: ReadinessChecks;
  /** The platform's own log (background work and runs), redacted like the servers'. */
  log: OpsLog;
  /**
   * The graceful stop (SIGTERM): /readyz turns 503, no new runs, runs in progress get
   * shutdown.drainSeconds to finish and the rest are cancelled, then everything closes.
   */
  shutdown(): Promise<void>;
  /** Stops at once: runs in progress are left to fail as their stores close (tests). */
  stop(): Promise<void>;
}

/** A passed sandbox check stands this long: each check starts a sandbox process. */
const SANDBOX_CHECK_CACHE_MS = 60_000;
/** A sandbox process that has not run its one-line task by then is not coming up. */
const SANDBOX_CHECK_TIMEOUT_MS = 30_000;

export interface StartOptions {
  logger?: boolean | LogOptions;
}

export async function startPlatform(
  config: Readonly<OpenCloakConfig>,
  options: StartOptions = {},
): Promise<RunningPlatform> {
  // Before anything is opened: a second server must not even create the noise secret or the CA.
  const lock = lockDataDir(config.dataDir, 'server');
  try {
    return await startLocked(config, options, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** Starts the platform on a data directory this process holds; `stop()` lets go of it. */
async function startLocked(
  config: Readonly<OpenCloakConfig>,
  options: StartOptions,
  lock: DataDirLock,
): Promise<RunningPlatform> {
  // Server mode: runs go to workers over the queue (docs/server-mode.md); else all in-process.
  const serverMode = await openServerMode(config);
  let platform: OpenedPlatform;
  try {
    platform = await openPlatform(config, serverMode?.cloakOptions);
  } catch (error) {
    await serverMode?.close();
    throw error;
  }
  let initialAdmin: InitialCredentials | undefined;
  const logger = options.logger ?? false;
  const log: OpsLog = logger === false ? SILENT_LOG : platformLog(logger);
  const metrics = new PlatformMetrics({ processMetrics: config.metrics.enabled });
  const { runner } = platform.cloak;
  runner.runs.watch(metrics.runEvents, log.child({ component: 'runs' }));
  const readiness = new ReadinessChecks(
    [
      { name: 'the air store', check: async () => void (await platform.air.db.get('SELECT 1')) },
      { name: 'the cloak store', check: () => platform.cloak.ping() },
      // Starts a sandbox process: at most once a minute, whatever the probes' rate, and with
      // time to do it on a busy machine (a probe that gives up sooner finds it done next time).
      {
        name: 'the sandbox',
        check: () => runner.sandboxCheck(),
        cacheMs: SANDBOX_CHECK_CACHE_MS,
        timeoutMs: SANDBOX_CHECK_TIMEOUT_MS,
      },
    ],
    log.child({ component: 'readiness' }),
  );
  const probe = () => readiness.probe();
  const revocations = new RevocationList(platform.pki.ca, platform.air.keys);
  const schedulerLog = log.child({ component: 'scheduler' });
  const scheduler = new Scheduler(
    platform.air,
    platform.tasks,
    {
      skipped: (taskId, reason) => schedulerLog.warn({ taskId, reason }, 'scheduled task skipped'),
    },
    serverMode?.lease,
  );
  const tls = {
    keyPem: platform.pki.server.keyPem,
    certPem: platform.pki.server.certPem,
    caCertPem: platform.pki.ca.certPem,
    crlPem: await revocations.sign(),
  };
  const cloakServer = await createCloakServer({
    data: platform.cloak.data,
    runner: platform.cloak.runner,
    registry: platform.registry,
    // Served here too, so that an air started elsewhere may use this cloak (start-air.ts).
    service: { api: airService(platform.cloak, config), keys: serviceKeyRegistry(config.dataDir) },
    tls,
    bodyLimitBytes: config.cloak.bodyLimitBytes,
    logger,
    ops: { probe, onAnswered: metrics.answeredOn('cloak') },
    runs: {
      backgroundTimeoutSeconds: config.cloak.backgroundTaskTimeoutSeconds,
      deliveryAttempts: config.cloak.deliveryAttempts,
      deliveryFirstDelayMs: config.cloak.deliveryFirstDelayMs,
      ...(serverMode ? { deliveries: serverMode.deliveries } : {}),
    },
  });
  const webServer = await createWebServer({
    store: platform.air,
    tasks: platform.tasks,
    keys: platform.keys,
    cloak: platform.cloakPort,
    registry: platform.registry,
    tls,
    maxPerPage: config.web.maxPerPage,
    loginBudget: {
      share: config.web.loginCheckShare,
      burstSeconds: config.web.loginCheckBurstSeconds,
    },
    logger,
    ops: { probe, onAnswered: metrics.answeredOn('web') },
  });
  let metricsServer: MetricsServer | undefined;
  try {
    await listenOn(cloakServer, config.cloak, CLOAK_LISTENER);
    await listenOn(webServer, config.web, WEB_LISTENER);
    if (config.metrics.enabled) {
      metricsServer = await startMetricsServer(metrics, config.metrics).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
        const { host, port } = config.metrics;
        throw new AppError('PORT_IN_USE', { ...METRICS_LISTENER, host, port });
      });
    }
    // Only once both servers listen: a start that fails (a port in use) must not use up the
    // first admin's one-time password without showing it.
    initialAdmin = await ensureFirstAdmin(platform.air);
    revocations.watch([cloakServer, webServer]);
    scheduler.start(config.scheduler.tickMs);
    const streamingLog = log.child({ component: 'streaming' });
    platform.cloak.streaming.start(config.cloak.streamingIntervalMs, (error) =>
      streamingLog.error({ err: error }, 'streaming pass failed'),
    );
    platform.keys.onRevoked(() => revocations.refresh([cloakServer, webServer]));
    const deliveryLog = log.child({ component: 'deliveries' });
    let lastQueueError = 0;
    serverMode?.deliverResults({
      gaveUp: (event) => deliveryLog.warn(event, 'async task result could not be delivered'),
      // Every poll fails while PostgreSQL is down: one line per 10 s says so.
      queueError: (error) => {
        if (Date.now() - lastQueueError < 10_000) return;
        lastQueueError = Date.now();
        deliveryLog.warn({ error: (error as Error).message }, 'the delivery queue failed');
      },
    });
  } catch (error) {
    await Promise.allSettled([cloakServer.close(), webServer.close(), metricsServer?.close()]);
    await platform.close();
    await serverMode?.close();
    throw error;
  }
  const closeServers = async () => {
    await Promise.allSettled([webServer.close(), cloakServer.close(), metricsServer?.close()]);
  };
  const closeStores = async () => {
    await platform.close();
    await serverMode?.close();
    lock.release();
  };
  const stopBackground = async () => {
    revocations.stop();
    scheduler.stop();
    await platform.cloak.streaming.stop();
  };
  return {
    ...platform,
    webServer,
    cloakServer,
    ...(initialAdmin ? { initialAdmin } : {}),
    scheduler,
    refreshRevocations: () => revocations.refresh([cloakServer, webServer]),
    webUrl: urlOf(webServer, config.web.host),
    cloakUrl: urlOf(cloakServer, config.cloak.host),
    metrics,
    ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
    readiness,
    log,
    shutdown: gracefulShutdown(
      {
        refuseNewWork: () => readiness.drain(),
        stopBackground,
        drainRuns: (seconds) => runner.runs.drain(seconds),
        closeServers,
        closeStores,
      },
      config.shutdown.drainSeconds,
      log.child({ component: 'shutdown' }),
    ),
    async stop() {
      readiness.drain();
      await stopBackground();
      await closeServers();
      await closeStores();
    },
  };
}

/** The platform's own logger: the servers' redaction and level, into the same stream. */
function platformLog(logger: true | LogOptions): OpsLog {
  const { stream, ...options } = redactingLogger(logger);
  return stream ? pino(options, stream as pino.DestinationStream) : pino(options);
}

export function urlOf(server: FastifyInstance, host: string): string {
  const { port } = server.server.address() as AddressInfo;
  const shown =
    host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `https://${shown}:${port}`;
}

/** What a port that is taken is called, so that the error names the flag and setting to change. */
interface Listener {
  api: string;
  flag: string;
  setting: string;
}
export const WEB_LISTENER: Listener = {
  api: 'web REST API',
  flag: '--web-port',
  setting: 'web.port',
};
export const METRICS_LISTENER: Listener = {
  api: 'metrics listener',
  flag: '--metrics-port',
  setting: 'metrics.port',
};
export const CLOAK_LISTENER: Listener = {
  api: 'cloak API',
  flag: '--cloak-port',
  setting: 'cloak.port',
};

export async function listenOn(
  server: FastifyInstance,
  address: { host: string; port: number },
  listener: Listener,
): Promise<void> {
  try {
    await server.listen({ host: address.host, port: address.port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new AppError('PORT_IN_USE', { ...listener, host: address.host, port: address.port });
  }
}
