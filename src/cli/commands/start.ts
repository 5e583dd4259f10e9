// CLI: start the embedded default (cloak API and web REST API on one machine).
import type { Command } from 'commander';
import type { OpenCloakConfig } from '../../config/index.ts';
import { diskFullError } from '../../errors/index.ts';
import { cloakStore, type GlobalOptions } from '../context.ts';

/** Ctrl-C, a service manager's stop, and a closed terminal (or a wrapper that has ended). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

interface StartFlags {
  host?: string;
  webPort?: string;
  cloakPort?: string;
  metricsPort?: string;
  metricsHost?: string;
  queue?: string;
  airOnly?: boolean;
  cloakOnly?: boolean;
  cloak?: string;
  serviceKey?: string;
  airStore?: string;
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('start the platform on its embedded default (SQLite under the data directory)')
    .option('--host <address>', 'address both APIs listen on')
    .option('--web-port <port>', 'web REST API port (default 8443)')
    .option('--cloak-port <port>', 'cloak API port (default 8444)')
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at /metrics on this port (metrics.port)',
    )
    .option(
      '--metrics-host <address>',
      'address the metrics listener binds to (metrics.host; default 127.0.0.1)',
    )
    .option(
      '--queue <url>',
      'server mode: send task runs to `opencloak worker` processes over pg-boss on this PostgreSQL database (queue.url)',
    )
    .option(
      '--air-only',
      'start only the air (web REST API, site, scheduler); needs --cloak and --service-key',
    )
    .option('--cloak-only', 'start only the cloak API, for an air on another host')
    .option(
      '--cloak <url>',
      'with --air-only: the cloak API address, e.g. https://cloak.example:8444',
    )
    .option(
      '--service-key <file>',
      'with --air-only: the file `opencloak service-key create` wrote',
    )
    .option(
      '--air-store <url>',
      "a postgres:// URL for the air's data (air.store; default: air.db in the data directory)",
    )
    .action(async (flags: StartFlags, command: Command) => {
      const globals = command.optsWithGlobals() as GlobalOptions;
      const { loadConfig } = await import('../../config/index.ts');
      const config = loadConfig(globals.config, {
        ...(globals.dataDir !== undefined ? { dataDir: globals.dataDir } : {}),
        web: { ...optionalHost(flags.host), ...optionalPort(flags.webPort) },
        cloak: {
          ...cloakStore(globals),
          ...optionalHost(flags.host),
          ...optionalPort(flags.cloakPort),
        },
        ...(flags.metricsPort !== undefined
          ? {
              metrics: {
                enabled: true,
                ...optionalHost(flags.metricsHost),
                ...optionalPort(flags.metricsPort),
              },
            }
          : {}),
        ...(flags.queue !== undefined ? { queue: { url: flags.queue } } : {}),
        ...(flags.airStore !== undefined ? { air: { store: flags.airStore } } : {}),
      });
      checkSplitFlags(flags, command);
      if (flags.airOnly || flags.cloakOnly) {
        const stop = await startSplit(config, flags);
        stopOnSignals(stop);
        return;
      }
      const { startPlatform } = await import('../../platform/index.ts');
      const { serverLogOptions } = await import('../server-log.ts');
      const running = await startPlatform(config, { logger: serverLogOptions(config) }).catch(
        (error: unknown) => {
          const what = `OpenCloak could not write to its data directory (${config.dataDir}).`;
          throw diskFullError(error, what) ?? error;
        },
      );
      process.stdout.write(
        [
          config.queue.url === undefined
            ? 'OpenCloak is running (embedded default).'
            : `OpenCloak is running (server mode: task runs go to \`opencloak worker\` processes in ${config.queue.shards} shards).`,
          `  data directory: ${config.dataDir}`,
          `  web REST API:   ${running.webUrl}  (web_api keys)`,
          `  web site:       ${running.webUrl}/  (log in in a browser)`,
          `  cloak API:      ${running.cloakUrl}  (upload, task_runner and admin keys)`,
          `  CA certificate: ${running.pki.caCertPath}`,
          ...(running.metricsUrl ? [`  metrics:        ${running.metricsUrl}  (Prometheus)`] : []),
          ...(running.initialAdmin
            ? [
                '',
                '*** First start: an admin login was created. Its password is shown only this once: ***',
                `  e-mail:   ${running.initialAdmin.email}`,
                `  password: ${running.initialAdmin.password}`,
                `Lost it? Set a new one (the server may keep running): npx opencloak analyst set-password ${running.initialAdmin.email} --password <at least 10 characters>`,
                '',
              ]
            : []),
          'Create an organisation and keys with `npx opencloak org create` and `npx opencloak key create`,',
          'or run `npm run demo` for a guided example. Stop with Ctrl-C.',
          '',
        ].join('\n'),
      );
      // The stop drains runs within shutdown.drainSeconds (docs/operations.md, "Shutdown").
      stopOnSignals(
        () => running.shutdown(),
        (error) => running.log.error({ err: error }, 'shutdown failed'),
      );
    });
}

/**
 * A terminal's Ctrl-C reaches both this process and the opencloak wrapper, which passes it on:
 * the second signal must not cut the first one's clean stop short.
 */
function stopOnSignals(
  stopServer: () => Promise<void>,
  failed: (error: unknown) => void = () => undefined,
): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void stopServer().then(
      () => process.exit(0),
      (error: unknown) => {
        failed(error);
        process.exit(1);
      },
    );
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
}

function checkSplitFlags(flags: StartFlags, command: Command): void {
  const usage = (message: string) => command.error(`error: ${message}`, { exitCode: 64 });
  if (flags.airOnly && flags.cloakOnly) usage('--air-only and --cloak-only exclude each other.');
  if (flags.airOnly && (!flags.cloak || !flags.serviceKey)) {
    usage(
      "--air-only needs --cloak <url> (the cloak API) and --service-key <file> (from `opencloak service-key create` on the cloak's host).",
    );
  }
  if (!flags.airOnly && (flags.cloak || flags.serviceKey)) {
    usage('--cloak and --service-key go with --air-only.');
  }
  if (flags.cloak && !/^https:\/\/[^/]+/.test(flags.cloak)) {
    usage(
      `--cloak must be an https:// address, e.g. https://cloak.example:8444; got "${flags.cloak}".`,
    );
  }
}

/** The air or the cloak alone; answers how to stop it. */
async function startSplit(
  config: Readonly<OpenCloakConfig>,
  flags: StartFlags,
): Promise<() => Promise<void>> {
  const { readServiceKeyFile, startAirOnly, startCloakOnly } =
    await import('../../platform/index.ts');
  const { serverLogOptions } = await import('../server-log.ts');
  const logger = serverLogOptions(config);
  if (flags.cloakOnly) {
    const cloak = await startCloakOnly(config, { logger });
    process.stdout.write(
      [
        'OpenCloak cloak is running (cloak only).',
        `  data directory: ${config.dataDir}`,
        `  cloak API:      ${cloak.cloakUrl}  (upload, task_runner and admin keys; the air's service key)`,
        `  CA certificate: ${cloak.platform.pki.caCertPath}`,
        'Give the air a service key: `npx opencloak service-key create --out air-service.pem`.',
        '',
      ].join('\n'),
    );
    return () => cloak.stop();
  }
  const air = await startAirOnly(config, {
    logger,
    cloakUrl: flags.cloak!,
    serviceKey: readServiceKeyFile(flags.serviceKey!),
  });
  process.stdout.write(
    [
      'OpenCloak air is running (air only).',
      `  data directory: ${config.dataDir}`,
      `  web REST API:   ${air.webUrl}  (web_api keys)`,
      `  web site:       ${air.webUrl}/  (log in in a browser)`,
      `  cloak:          ${flags.cloak}  (with the service key ${flags.serviceKey})`,
      ...(air.initialAdmin
        ? [
            '',
            '*** First start: an admin login was created. Its password is shown only this once: ***',
            `  e-mail:   ${air.initialAdmin.email}`,
            `  password: ${air.initialAdmin.password}`,
            '',
          ]
        : []),
      '',
    ].join('\n'),
  );
  return () => air.stop();
}

function optionalHost(host: string | undefined) {
  return host !== undefined ? { host } : {};
}

function optionalPort(port: string | undefined) {
  return port !== undefined ? { port: Number(port) } : {};
}
