// Opens every part of the embedded default in one process, keeping cloak and air apart.
import path from 'node:path';
import {
  KeyService,
  describeAirData,
  openAirStore,
  TaskService,
  type AirStore,
  type CloakPort,
} from '../air/index.ts';
// The module, not the cloak's index file, which also exports its server and the job queue: the
// command line opens the platform without them (docs/cli.md; build.test.ts).
import { openCloak, type Cloak, type OpenCloakOptions } from '../cloak/open-cloak.ts';
import type { OpenCloakConfig } from '../config/index.ts';
import type { KeyRegistry } from '../http/index.ts';
import { inProcessCloakPort } from './in-process-cloak-port.ts';
import { loadOrCreateInstallationPki, type InstallationPki } from '../pki/index.ts';

export interface OpenedPlatform {
  config: Readonly<OpenCloakConfig>;
  air: AirStore;
  cloak: Cloak;
  /** What the air may call on the cloak: validation, runs, table definitions, anonymized counts. */
  cloakPort: CloakPort;
  pki: InstallationPki;
  keys: KeyService;
  tasks: TaskService;
  registry: KeyRegistry;
  close(): Promise<void>;
}

/** The air's key store, with refused requests and trusted cloak API runs written to the audit log. */
export function auditedRegistry(air: AirStore): KeyRegistry {
  return {
    status: (serial) => air.keys.status(serial),
    // The refusal is answered at once; its audit entry follows (a failed write loses the entry only).
    authenticationFailed: ({ orgId, ...detail }) =>
      void air.audit
        .record({
          orgId: orgId ?? null,
          event: 'authentication.failed',
          actor: detail.serial ? `certificate:${detail.serial}` : 'anonymous',
          detail: { ...detail },
        })
        .catch(() => undefined),
    trustedRunStarted: ({ orgId, actor, ...detail }) =>
      air.audit.record({ orgId, event: 'task.run.trusted', actor, detail: { ...detail } }),
  };
}

/** The CA and server certificate under the data directory, made on first use. */
export function openInstallationPki(config: Readonly<OpenCloakConfig>): InstallationPki {
  return loadOrCreateInstallationPki(path.join(config.dataDir, 'pki'), {
    hosts: [...config.tls.hosts],
    caValidDays: config.tls.caValidDays,
    serverValidDays: config.tls.serverValidDays,
    // From the environment, never from a config file: the passphrase must not sit beside the key.
    ...(process.env.OPENCLOAK_CA_PASSPHRASE
      ? { caPassphrase: process.env.OPENCLOAK_CA_PASSPHRASE }
      : {}),
  });
}

/** Used by the server and by CLI commands that work directly on the data directory. */
export async function openPlatform(
  config: Readonly<OpenCloakConfig>,
  /** Server mode's queue and run cap (server-mode.ts); the embedded default has none. */
  serverMode?: OpenCloakOptions['serverMode'],
): Promise<OpenedPlatform> {
  const pki = openInstallationPki(config);
  const air = await openAirStore(config.dataDir, {
    defaultAccessLevel: config.privacy.defaultAccessLevel,
    ...(config.air.store !== undefined ? { address: config.air.store } : {}),
  });
  let cloak: Cloak;
  try {
    const airData = await describeAirData(air.db);
    cloak = await openCloak(config, {
      otherData: () => airData,
      ...(serverMode ? { serverMode } : {}),
    });
  } catch (error) {
    await air.close();
    throw error;
  }
  // The air sees the cloak only through its port: validation and anonymized results.
  const cloakPort = inProcessCloakPort(cloak, config);
  const tasks = new TaskService(air, cloakPort, {
    backgroundTimeoutSeconds: config.cloak.backgroundTaskTimeoutSeconds,
  });
  const keys = new KeyService(air, pki.ca, config.tls.clientKeyValidDays);
  return {
    config,
    air,
    cloak,
    cloakPort,
    pki,
    keys,
    tasks,
    registry: auditedRegistry(air),
    async close() {
      await cloak.close();
      await air.close();
    },
  };
}
