// Starts the cloak alone (`opencloak start --cloak-only`): the cloak API, for an air on another host.
import type { FastifyInstance } from 'fastify';
import { airService, createCloakServer } from '../cloak/index.ts';
import type { OpenCloakConfig } from '../config/index.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { openPlatform, type OpenedPlatform } from './open-platform.ts';
import { RevocationList } from './revocation-list.ts';
import { openServerMode, type ServerMode } from './server-mode.ts';
import { serviceKeyRegistry } from './service-keys.ts';
import { CLOAK_LISTENER, listenOn, urlOf, type StartOptions } from './start-platform.ts';

export interface RunningCloak {
  platform: OpenedPlatform;
  cloakUrl: string;
  cloakServer: FastifyInstance;
  stop(): Promise<void>;
}

/**
 * The cloak's data, runner and streaming engine, and the cloak API with its /service routes. The
 * data directory's air.db serves only as the key registry (analysts' and data owners' keys on the
 * cloak API, and the audit of refused requests): no web API, scheduler or task of the air runs here.
 */
export async function startCloakOnly(
  config: Readonly<OpenCloakConfig>,
  options: StartOptions = {},
): Promise<RunningCloak> {
  const lock = lockDataDir(config.dataDir, 'server');
  let platform: OpenedPlatform | undefined;
  let cloakServer: FastifyInstance | undefined;
  let serverMode: ServerMode | undefined;
  try {
    // With --queue, runs asked for by the remote air go to workers as on a full server.
    serverMode = await openServerMode(config);
    platform = await openPlatform(config, serverMode?.cloakOptions);
    const revocations = new RevocationList(platform.pki.ca, platform.air.keys);
    cloakServer = await createCloakServer({
      data: platform.cloak.data,
      runner: platform.cloak.runner,
      registry: platform.registry,
      service: {
        api: airService(platform.cloak, config),
        keys: serviceKeyRegistry(config.dataDir),
      },
      tls: {
        keyPem: platform.pki.server.keyPem,
        certPem: platform.pki.server.certPem,
        caCertPem: platform.pki.ca.certPem,
        crlPem: await revocations.sign(),
      },
      bodyLimitBytes: config.cloak.bodyLimitBytes,
      logger: options.logger ?? false,
      runs: {
        backgroundTimeoutSeconds: config.cloak.backgroundTaskTimeoutSeconds,
        deliveryAttempts: config.cloak.deliveryAttempts,
        deliveryFirstDelayMs: config.cloak.deliveryFirstDelayMs,
        ...(serverMode ? { deliveries: serverMode.deliveries } : {}),
      },
    });
    await listenOn(cloakServer, config.cloak, CLOAK_LISTENER);
    revocations.watch([cloakServer]);
    platform.cloak.streaming.start(config.cloak.streamingIntervalMs);
    serverMode?.deliverResults({
      gaveUp: (event) => cloakServer?.log.warn(event, 'async task result could not be delivered'),
    });
    const opened = platform;
    const server = cloakServer;
    const queue = serverMode;
    return {
      platform: opened,
      cloakServer: server,
      cloakUrl: urlOf(server, config.cloak.host),
      async stop() {
        revocations.stop();
        await opened.cloak.streaming.stop();
        await server.close();
        await opened.close();
        await queue?.close();
        lock.release();
      },
    };
  } catch (error) {
    await cloakServer?.close();
    await platform?.close();
    await serverMode?.close();
    lock.release();
    throw error;
  }
}
