// Starts the embedded default: the cloak API and the web REST API, both over TLS, in one process.
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import {
  createWebServer,
  ensureFirstAdmin,
  Scheduler,
  type InitialCredentials,
} from '../air/index.ts';
import { createCloakServer } from '../cloak/index.ts';
import type { OpenCloakConfig } from '../config/index.ts';
import type { LogOptions } from '../http/index.ts';
import { AppError } from '../errors/index.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import { openPlatform, type OpenedPlatform } from './open-platform.ts';
import { RevocationList } from './revocation-list.ts';

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
  stop(): Promise<void>;
}

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
  const platform = await openPlatform(config);
  let initialAdmin: InitialCredentials | undefined;
  const logger = options.logger ?? false;
  const revocations = new RevocationList(platform.pki.ca, platform.air.keys);
  const scheduler = new Scheduler(platform.air, platform.tasks);
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
    tls,
    bodyLimitBytes: config.cloak.bodyLimitBytes,
    logger,
    runs: {
      backgroundTimeoutSeconds: config.cloak.backgroundTaskTimeoutSeconds,
      deliveryAttempts: config.cloak.deliveryAttempts,
      deliveryFirstDelayMs: config.cloak.deliveryFirstDelayMs,
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
  });
  try {
    await listenOn(cloakServer, config.cloak, CLOAK_LISTENER);
    await listenOn(webServer, config.web, WEB_LISTENER);
    // Only once both servers listen: a start that fails (a port in use) must not use up the
    // first admin's one-time password without showing it.
    initialAdmin = await ensureFirstAdmin(platform.air);
    revocations.watch([cloakServer, webServer]);
    scheduler.start(config.scheduler.tickMs);
    platform.cloak.streaming.start(config.cloak.streamingIntervalMs);
    platform.keys.onRevoked(() => revocations.refresh([cloakServer, webServer]));
  } catch (error) {
    await Promise.allSettled([cloakServer.close(), webServer.close()]);
    await platform.close();
    throw error;
  }
  return {
    ...platform,
    webServer,
    cloakServer,
    ...(initialAdmin ? { initialAdmin } : {}),
    scheduler,
    refreshRevocations: () => revocations.refresh([cloakServer, webServer]),
    webUrl: urlOf(webServer, config.web.host),
    cloakUrl: urlOf(cloakServer, config.cloak.host),
    async stop() {
      revocations.stop();
      scheduler.stop();
      await platform.cloak.streaming.stop();
      await Promise.allSettled([webServer.close(), cloakServer.close()]);
      await platform.close();
      lock.release();
    },
  };
}

function urlOf(server: FastifyInstance, host: string): string {
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
const WEB_LISTENER: Listener = { api: 'web REST API', flag: '--web-port', setting: 'web.port' };
const CLOAK_LISTENER: Listener = {
  api: 'cloak API',
  flag: '--cloak-port',
  setting: 'cloak.port',
};

async function listenOn(
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
