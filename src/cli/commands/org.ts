// CLI: organisations and the people in them (analysts, data owners, admins) with their roles.
import { Option, type Command } from 'commander';
import { AppError } from '../../errors/index.ts';
import { ACCESS_LEVELS, ROLES, type AccessLevel, type Role } from '../../shared/index.ts';
import type { OpenedPlatform } from '../../platform/index.ts';
import { resolveOrg, withPlatform } from '../context.ts';
import { printResult } from '../output.ts';

interface NewPerson {
  org: string;
  email: string;
  name: string;
  role: Role;
  password?: string;
}

async function findPerson(p: OpenedPlatform, email: string) {
  const person = await p.air.organisations.analystByEmail(email);
  if (!person) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `There is no person "${email}". List them with \`opencloak analyst list --org <org>\`.`,
    });
  }
  return person;
}

export function registerOrgCommands(program: Command): void {
  const org = program.command('org').description('manage analyst organisations');

  org
    .command('create <name>')
    .description('create an organisation')
    .action(async (name: string, _opts, command: Command) =>
      withPlatform(command, async (p) => printResult(await p.air.organisations.create(name))),
    );

  org
    .command('list')
    .description('list organisations')
    .action(async (_opts, command: Command) =>
      withPlatform(command, async (p) => printResult(await p.air.organisations.list())),
    );

  org
    .command('release-schedule <org>')
    .description(
      "show when the organisation's runs are answered (docs/anonymization.md, Timing); --reset starts it again",
    )
    .option('--reset', 'back to the first slot: lets up to max_epoch more slow runs through')
    .action(async (idOrName: string, opts: { reset?: boolean }, command: Command) =>
      withPlatform(command, async (p) => {
        const org = await resolveOrg(p, idOrName);
        const schedule = p.cloak.release;
        if (!schedule) {
          throw new AppError('INVALID_PARAMETER', {
            detail:
              'The release schedule is off (privacy.releaseSchedule: false): runs are answered when they end.',
          });
        }
        if (opts.reset) await schedule.reset(org.id);
        const epoch = await schedule.epochOf(org.id);
        const { baseMs, perUserMs, maxEpoch, decayMs } = schedule.settings;
        printResult({
          organisation: org.name,
          epoch,
          max_epoch: maxEpoch,
          // The epoch falls by one per this many hours without a slow run (0: never).
          epoch_decay_hours: decayMs / 3_600_000,
          first_slot_ms: 2 ** epoch * baseMs,
          per_user_ms: 2 ** epoch * perUserMs,
        });
      }),
    );

  const roleOption = () =>
    new Option(
      '--role <role>',
      'what the person may do, including which keys they may create',
    ).choices([...ROLES]);
  const analyst = program
    .command('analyst')
    .description('manage the people of an organisation and their roles');
  analyst
    .command('create')
    .description('add a person (by default an analyst) to an organisation')
    .requiredOption('--org <org>', 'organisation id or name')
    .requiredOption('--email <email>', "the person's e-mail address")
    .requiredOption('--name <name>', "the person's name")
    .addOption(roleOption().default('analyst'))
    .option(
      '--password <password>',
      'a password for the web site (at least 10 characters); without it the person cannot log in until you set one with `analyst set-password`',
    )
    .action(async (opts: NewPerson, command: Command) =>
      withPlatform(command, async (p) => {
        const { checkLoginPassword, setLoginPassword } = await import('../../air/index.ts');
        const orgId = (await resolveOrg(p, opts.org)).id;
        // Checked before the person is added, so that a short password adds nobody.
        if (opts.password !== undefined) checkLoginPassword(opts.password);
        const person = await p.air.organisations.addAnalyst(
          orgId,
          opts.email,
          opts.name,
          Date.now(),
          opts.role,
        );
        if (opts.password !== undefined) {
          await setLoginPassword(p.air, person.id, opts.password);
        }
        printResult(person);
      }),
    );

  analyst
    .command('set-password <email>')
    .description(
      "set a person's web site password, e.g. the first admin's if its one-time password was lost (the server may keep running)",
    )
    .requiredOption('--password <password>', 'the new password (at least 10 characters)')
    .action(async (email: string, opts: { password: string }, command: Command) =>
      withPlatform(command, async (p) => {
        const person = await findPerson(p, email);
        const { setLoginPassword } = await import('../../air/index.ts');
        await setLoginPassword(p.air, person.id, opts.password);
        await p.air.audit.record({
          orgId: person.orgId,
          event: 'password.set',
          actor: 'cli',
          detail: { user: person.id },
        });
        printResult({ email: person.email, password_set: true });
      }),
    );

  analyst
    .command('list')
    .description("list an organisation's people and their roles")
    .requiredOption('--org <org>', 'organisation id or name')
    .action(async (opts: { org: string }, command: Command) =>
      withPlatform(command, async (p) =>
        printResult(await p.air.organisations.listAnalysts((await resolveOrg(p, opts.org)).id)),
      ),
    );

  analyst
    .command('set-role <email>')
    .description("change a person's role (analyst, data_owner or admin)")
    .addOption(roleOption().makeOptionMandatory())
    .action(async (email: string, opts: { role: Role }, command: Command) =>
      withPlatform(command, async (p) => {
        const person = await findPerson(p, email);
        await p.air.organisations.setRole(person.id, opts.role);
        await p.air.audit.record({
          orgId: person.orgId,
          event: 'role.changed',
          actor: 'cli',
          detail: { user: person.id, from: person.role, to: opts.role },
        });
        printResult(await p.air.organisations.analyst(person.id));
      }),
    );

  // The operator holds the data directory, so acts as an installation admin here (audited).
  analyst
    .command('set-level <email>')
    .description(
      "change a person's access level: trusted runs skip the participation budget and are " +
        'audited with their code (docs/anonymization.md, "Access levels")',
    )
    .addOption(
      new Option('--level <level>', 'untrusted or trusted')
        .choices([...ACCESS_LEVELS])
        .makeOptionMandatory(),
    )
    .action(async (email: string, opts: { level: AccessLevel }, command: Command) =>
      withPlatform(command, async (p) => {
        const person = await findPerson(p, email);
        const { setAccessLevel } = await import('../../air/index.ts');
        printResult(await setAccessLevel(p.air, person.id, opts.level, 'cli'));
      }),
    );
}
