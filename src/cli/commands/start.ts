// CLI: start the embedded default (cloak API and web REST API on one machine).
import type { Command } from 'commander';
import { loadConfig } from '../../config/index.ts';
import { diskFullError } from '../../errors/index.ts';
import { startPlatform } from '../../platform/index.ts';
import type { GlobalOptions } from '../context.ts';
import { serverLogOptions } from '../server-log.ts';

/** Ctrl-C, a service manager's stop, and a closed terminal (or a wrapper that has ended). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

interface StartFlags {
  host?: string;
  webPort?: string;
  cloakPort?: string;
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
      '--air-store <url>',
      "a postgres:// URL for the air's data (air.store; default: air.db in the data directory)",
    )
    .action(async (flags: StartFlags, command: Command) => {
      const globals = command.optsWithGlobals() as GlobalOptions;
      const config = loadConfig(globals.config, {
        ...(globals.dataDir !== undefined ? { dataDir: globals.dataDir } : {}),
        web: { ...optionalHost(flags.host), ...optionalPort(flags.webPort) },
        cloak: { ...optionalHost(flags.host), ...optionalPort(flags.cloakPort) },
        ...(flags.airStore !== undefined ? { air: { store: flags.airStore } } : {}),
      });
      const running = await startPlatform(config, { logger: serverLogOptions(config) }).catch(
        (error: unknown) => {
          const what = `OpenCloak could not write to its data directory (${config.dataDir}).`;
          throw diskFullError(error, what) ?? error;
        },
      );
      process.stdout.write(
        [
          'OpenCloak is running (embedded default).',
          `  data directory: ${config.dataDir}`,
          `  web REST API:   ${running.webUrl}  (web_api keys)`,
          `  web site:       ${running.webUrl}/  (log in in a browser)`,
          `  cloak API:      ${running.cloakUrl}  (upload, task_runner and admin keys)`,
          `  CA certificate: ${running.pki.caCertPath}`,
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
      // A terminal's Ctrl-C reaches both this process and the opencloak wrapper, which passes it
      // on: the second signal must not cut the first one's clean stop short.
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        void running.stop().then(() => process.exit(0));
      };
      for (const signal of STOP_SIGNALS) process.on(signal, stop);
    });
}

function optionalHost(host: string | undefined) {
  return host !== undefined ? { host } : {};
}

function optionalPort(port: string | undefined) {
  return port !== undefined ? { port: Number(port) } : {};
}
