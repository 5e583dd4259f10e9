// CLI: issue, list and revoke client keys (.pfx and .pem files).
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { KeyCreator, AirStore } from '../../air/index.ts';
import { AppError, withArticle } from '../../errors/index.ts';
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
    .action(async (opts: CreateOptions, command: Command) => {
      checkUserOption(opts, command);
      // Before the key is issued: a refusal here issues nothing and writes nothing.
      checkOutDir(opts.out);
      if (opts.name !== undefined) checkFree(path.join(opts.out, opts.name));
      await withPlatform(command, async (p) => {
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
        const base = path.join(opts.out, opts.name ?? `${opts.type}-${issued.record.id}`);
        try {
          writeKeyFiles(opts.out, base, issued);
        } catch (error) {
          // A key whose files were not written is of no use to anyone: it must not stay valid.
          await p.keys.revoke(orgId, issued.record.id);
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
          throw new AppError('INVALID_PARAMETER', {
            detail: `${(error as NodeJS.ErrnoException).path} appeared while the key was issued, so the key was revoked and nothing was written. Give another --name, or move that file away first.`,
          });
        }
        await p.air.audit.record({
          orgId,
          event: 'key.downloaded',
          actor: by.actor,
          detail: { key: issued.record.id, formats: 'pfx,pem' },
        });
        printResult({ ...issued.record, pfx: `${base}.pfx`, pem: `${base}.pem` });
      });
    });

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

/** `--user` goes with, and only with, `--type upload_user`: a wrong command line (exit 64). */
function checkUserOption(opts: CreateOptions, command: Command): void {
  const usage = (message: string) => command.error(`error: ${message}`, { exitCode: 64 });
  if (opts.type === 'upload_user' && opts.user === undefined) {
    usage('--type upload_user needs --user <id>: the id of the one user the key uploads for.');
  }
  if (opts.type !== 'upload_user' && opts.user !== undefined) {
    usage(
      `--user goes only with --type upload_user; leave it out for ${withArticle(opts.type)} key.`,
    );
  }
}

/** Refuses an --out that is a file, or that cannot be created or written, before anything is issued. */
function checkOutDir(out: string): void {
  const refuse = (problem: string) => {
    throw new AppError('INVALID_PARAMETER', {
      detail: `--out ${out} ${problem}. Give a directory you may write to (one that does not exist yet is created).`,
    });
  };
  // The nearest part of the path that exists: --out itself, or the directory it would be made in.
  let existing = path.resolve(out);
  while (!existsSync(existing) && path.dirname(existing) !== existing) {
    existing = path.dirname(existing);
  }
  const isOut = existing === path.resolve(out);
  const shown = path.relative(process.cwd(), existing) || '.';
  if (!statSync(existing).isDirectory()) {
    refuse(isOut ? 'is a file, not a directory' : `cannot be created: ${shown} is a file`);
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch {
    refuse(isOut ? 'is not writable' : `cannot be created: ${shown} is not writable`);
  }
}

/** Refuses to replace the files of an earlier key: it would stay valid, its private key lost. */
function checkFree(base: string): void {
  const taken = [`${base}.pfx`, `${base}.pem`].filter((file) => existsSync(file));
  if (taken.length > 0) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `${taken.join(' and ')} already ${taken.length > 1 ? 'exist' : 'exists'}; nothing was issued. Give another --name, or move the file${taken.length > 1 ? 's' : ''} away first (revoke the key ${taken.length > 1 ? 'they hold' : 'it holds'} with \`opencloak key revoke\` if it is no longer used).`,
    });
  }
}

/** Creates the files, never replacing one (`wx`); on a failure none of them is left. */
function writeKeyFiles(out: string, base: string, issued: { pfx: Buffer; pem: string }): void {
  const written: string[] = [];
  try {
    mkdirSync(out, { recursive: true });
    for (const [file, content] of [
      [`${base}.pfx`, issued.pfx],
      [`${base}.pem`, issued.pem],
    ] as const) {
      writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
      written.push(file);
    }
  } catch (error) {
    for (const file of written) rmSync(file, { force: true });
    throw error;
  }
}

/** A person of the organisation, as the creator the key policy checks and the audit log names. */
async function personIn(air: AirStore, orgId: string, email: string): Promise<KeyCreator> {
  const person = await air.organisations.analystByEmail(email);
  if (!person || person.orgId !== orgId) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `There is no person "${email}" in this organisation. List them with \`opencloak analyst list --org <org>\`, or leave out --for to create the key as the operator.`,
    });
  }
  return {
    actor: `cli for analyst:${person.id}`,
    role: person.role,
    personId: person.id,
    holder: person.email,
  };
}
