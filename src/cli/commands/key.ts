// CLI: issue, list and revoke client keys (.pfx and .pem files).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { KeyCreator, AirStore } from '../../air/index.ts';
import { AppError } from '../../errors/index.ts';
import { KEY_TYPES } from '../../shared/index.ts';
import { resolveOrg, withPlatform } from '../context.ts';
import { printResult } from '../output.ts';

interface CreateOptions {
  org: string;
  type: string;
  description: string;
  password?: string;
  passwordEnv?: string;
  user?: string;
  for?: string;
  out: string;
  name?: string;
  legacy?: boolean;
}

export function registerKeyCommands(program: Command): void {
  const key = program.command('key').description('manage client keys (certificates)');

  key
    .command('create')
    .description(
      'issue a key and write it as <out>/<name>.pfx and <out>/<name>.pem (password-protected)',
    )
    .requiredOption('--org <org>', 'organisation id or name')
    .addOption(
      new Option('--type <type>', 'key type').choices([...KEY_TYPES]).makeOptionMandatory(),
    )
    .requiredOption('--description <text>', 'what the key is for')
    .option('--password <password>', 'password protecting the files (at least 4 characters)')
    .option('--password-env <name>', 'read the password from this environment variable instead')
    .option('--user <id>', 'the user an upload_user key uploads for')
    .option(
      '--for <email>',
      'issue the key for this person: their role must allow the type (default: the operator, as an admin)',
    )
    .option('--out <dir>', 'directory for the key files', '.')
    .option('--name <name>', 'file name without extension (default <type>-<key id>)')
    .option('--legacy', 'protect the .pfx with 3DES for old keychains (default AES-256)')
    .action(async (opts: CreateOptions, command: Command) =>
      withPlatform(command, async (p) => {
        const password = opts.passwordEnv ? process.env[opts.passwordEnv] : opts.password;
        if (password === undefined) {
          throw new AppError('INVALID_PARAMETER', {
            detail: 'Give the key password with --password or --password-env <VARIABLE>.',
          });
        }
        const orgId = (await resolveOrg(p, opts.org)).id;
        const { OPERATOR } = await import('../../air/index.ts');
        const by = opts.for === undefined ? OPERATOR : await personIn(p.air, orgId, opts.for);
        const issued = await p.keys.create(
          orgId,
          {
            type: opts.type,
            description: opts.description,
            password,
            ...(opts.user !== undefined ? { userId: opts.user } : {}),
            legacyPkcs12: opts.legacy === true,
          },
          by,
        );
        mkdirSync(opts.out, { recursive: true });
        const base = path.join(opts.out, opts.name ?? `${opts.type}-${issued.record.id}`);
        writeFileSync(`${base}.pfx`, issued.pfx, { mode: 0o600 });
        writeFileSync(`${base}.pem`, issued.pem, { mode: 0o600 });
        await p.air.audit.record({
          orgId,
          event: 'key.downloaded',
          actor: by.actor,
          detail: { key: issued.record.id, formats: 'pfx,pem' },
        });
        printResult({ ...issued.record, pfx: `${base}.pfx`, pem: `${base}.pem` });
      }),
    );

  key
    .command('list')
    .description("list an organisation's keys")
    .requiredOption('--org <org>', 'organisation id or name')
    .action(async (opts: { org: string }, command: Command) =>
      withPlatform(command, async (p) =>
        printResult(await p.air.keys.list((await resolveOrg(p, opts.org)).id)),
      ),
    );

  key
    .command('revoke <keyId>')
    .description('revoke a key; it stops working at once')
    .requiredOption('--org <org>', 'organisation id or name')
    .action(async (keyId: string, opts: { org: string }, command: Command) =>
      withPlatform(command, async (p) => {
        const orgId = (await resolveOrg(p, opts.org)).id;
        if (!(await p.keys.revoke(orgId, keyId))) {
          throw new AppError('INVALID_PARAMETER', {
            detail: `There is no active key "${keyId}" in this organisation (see \`opencloak key list\`).`,
          });
        }
        printResult({ revoked: keyId });
      }),
    );
}

/** A person of the organisation, as the creator the key policy checks and the audit log names. */
async function personIn(air: AirStore, orgId: string, email: string): Promise<KeyCreator> {
  const person = await air.organisations.analystByEmail(email);
  if (!person || person.orgId !== orgId) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `There is no person "${email}" in this organisation. List them with \`opencloak analyst list --org <org>\`, or leave out --for to create the key as the operator.`,
    });
  }
  return { actor: `cli for analyst:${person.id}`, role: person.role, personId: person.id };
}
