// Starts the air alone (`opencloak start --air-only`): the web REST API and site, with the cloak on another host.
import type { FastifyInstance } from 'fastify';
import {
  ensureFirstAdmin,
  KeyService,
  openAirStore,
  Scheduler,
  TaskService,
  type AirStore,
  type InitialCredentials,
} from '../air/index.ts';
import { createWebServer } from '../air/web-server.ts';
import type { OpenCloakConfig } from '../config/index.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { auditedRegistry, openInstallationPki } from './open-platform.ts';
import { remoteCloakPort, type RemoteCloakPort } from './remote-cloak-port.ts';
import { RevocationList } from './revocation-list.ts';
import type { ServiceKeyMaterial } from './service-keys.ts';
import { listenOn, urlOf, WEB_LISTENER, type StartOptions } from './start-platform.ts';

export interface AirOnlyOptions extends StartOptions {
  /** The cloak API's address, e.g. https://cloak.example:8444. */
  cloakUrl: string;
  /** The air's service key (`opencloak service-key create` on the cloak's host). */
  serviceKey: ServiceKeyMaterial;
}

export interface RunningAir {
  air: AirStore;
  tasks: TaskService;
  cloakPort: RemoteCloakPort;
  webUrl: string;
  webServer: FastifyInstance;
  scheduler: Scheduler;
  initialAdmin?: InitialCredentials;
  stop(): Promise<void>;
}

/**
 * Organisations, people, keys, tasks and results in this data directory's air.db; every call on
 * the cloak goes over HTTPS with the service key (remote-cloak-port.ts). The data directory holds
 * no cloak.db and no noise secret. The cloak is asked once before anything listens, so that a wrong
 * address or key stops the start with a clear error rather than failing every request later.
 */
export async function startAirOnly(
  config: Readonly<OpenCloakConfig>,
  options: AirOnlyOptions,
): Promise<RunningAir> {
  const lock = lockDataDir(config.dataDir, 'server');
  const cloakPort = remoteCloakPort(options.cloakUrl, options.serviceKey);
  let air: AirStore | undefined;
  let webServer: FastifyInstance | undefined;
  try {
    await cloakPort.ping();
    const pki = openInstallationPki(config);
    const store = await openAirStore(config.dataDir, {
      defaultAccessLevel: config.privacy.defaultAccessLevel,
    });
    air = store;
    const tasks = new TaskService(store, cloakPort, {
      backgroundTimeoutSeconds: config.cloak.backgroundTaskTimeoutSeconds,
    });
    const keys = new KeyService(store, pki.ca, config.tls.clientKeyValidDays);
    const revocations = new RevocationList(pki.ca, store.keys);
    const scheduler = new Scheduler(store, tasks);
    const server = await createWebServer({
      store,
      tasks,
      keys,
      cloak: cloakPort,
      registry: auditedRegistry(store),
      tls: {
        keyPem: pki.server.keyPem,
        certPem: pki.server.certPem,
        caCertPem: pki.ca.certPem,
        crlPem: await revocations.sign(),
      },
      maxPerPage: config.web.maxPerPage,
      loginBudget: {
        share: config.web.loginCheckShare,
        burstSeconds: config.web.loginCheckBurstSeconds,
      },
      logger: options.logger ?? false,
    });
    webServer = server;
    await listenOn(server, config.web, WEB_LISTENER);
    const initialAdmin = await ensureFirstAdmin(store);
    revocations.watch([server]);
    scheduler.start(config.scheduler.tickMs);
    keys.onRevoked(() => revocations.refresh([server]));
    return {
      air: store,
      tasks,
      cloakPort,
      webServer: server,
      webUrl: urlOf(server, config.web.host),
      scheduler,
      ...(initialAdmin ? { initialAdmin } : {}),
      async stop() {
        revocations.stop();
        scheduler.stop();
        await server.close();
        await cloakPort.close();
        await store.close();
        lock.release();
      },
    };
  } catch (error) {
    await webServer?.close();
    await air?.close();
    await cloakPort.close();
    lock.release();
    throw error;
  }
}
