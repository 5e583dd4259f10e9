// CLI: the air's service keys (air_service certificates), made on the cloak's host for an air elsewhere.
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../errors/index.ts';
import { configFrom } from '../context.ts';
import { printResult } from '../output.ts';

/** A service key holds its private key in the clear (the air reads it unattended): never overwrite one. */
function checkNewFile(file: string): void {
  if (existsSync(file)) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `${file} exists already. Give a new file name; revoke the old key with \`opencloak service-key revoke <id>\` if it is no longer used.`,
    });
  }
}

export function registerServiceKeyCommands(program: Command): void {
  const serviceKey = program
    .command('service-key')
    .description(
      "the air's service credential for a cloak on another host (`opencloak start --air-only`)",
    );

  serviceKey
    .command('create')
    .description(
      'issue an air_service key from the installation CA and write it (certificate, key, CA) to --out, mode 0600',
    )
    .requiredOption('--out <file>', 'the PEM file to write; copy it to the air host')
    .option('--description <text>', 'what it is for', 'air service')
    .option('--valid-days <days>', 'validity (default tls.clientKeyValidDays)')
    .action(
      async (opts: { out: string; description: string; validDays?: string }, command: Command) => {
        const config = await configFrom(command);
        checkNewFile(opts.out);
        const validDays =
          opts.validDays !== undefined ? Number(opts.validDays) : config.tls.clientKeyValidDays;
        if (!Number.isInteger(validDays) || validDays < 1) {
          throw new AppError('INVALID_PARAMETER', {
            detail: `--valid-days must be a whole number of days, at least 1; got "${opts.validDays}".`,
          });
        }
        const { createServiceKey, openInstallationPki } = await import('../../platform/index.ts');
        const pki = openInstallationPki(config);
        const { record, pem } = createServiceKey(config.dataDir, pki.ca, {
          description: opts.description,
          validDays,
        });
        writeFileSync(opts.out, pem, { mode: 0o600 });
        printResult({ ...record, file: opts.out });
      },
    );

  serviceKey
    .command('list')
    .description('list service keys, revoked ones included')
    .action(async (_opts, command: Command) => {
      const { listServiceKeys } = await import('../../platform/index.ts');
      printResult(listServiceKeys((await configFrom(command)).dataDir));
    });

  serviceKey
    .command('revoke <id>')
    .description('revoke a service key; a running cloak refuses it from its next request on')
    .action(async (id: string, _opts, command: Command) => {
      const { revokeServiceKey } = await import('../../platform/index.ts');
      printResult(revokeServiceKey((await configFrom(command)).dataDir, id));
    });
}
