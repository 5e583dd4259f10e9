// CLI: organisations and analysts.
import type { Command } from 'commander';
import { AppError } from '../../errors/index.ts';
import { printJson, resolveOrg, withPlatform } from '../context.ts';

export function registerOrgCommands(program: Command): void {
  const org = program.command('org').description('manage analyst organisations');

  org
    .command('create <name>')
    .description('create an organisation')
    .action(async (name: string, _opts, command: Command) =>
      withPlatform(command, (p) => printJson(p.air.organisations.create(name))),
    );

  org
    .command('list')
    .description('list organisations')
    .action(async (_opts, command: Command) =>
      withPlatform(command, (p) => printJson(p.air.organisations.list())),
    );

  org
    .command('release-schedule <org>')
    .description(
      "show when the organisation's runs are answered (docs/anonymization.md, Timing); --reset starts it again",
    )
    .option('--reset', 'back to the first slot: lets up to max_epoch more slow runs through')
    .action(async (idOrName: string, opts: { reset?: boolean }, command: Command) =>
      withPlatform(command, (p) => {
        const org = resolveOrg(p, idOrName);
        const schedule = p.cloak.release;
        if (!schedule) {
          throw new AppError('INVALID_PARAMETER', {
            detail:
              'The release schedule is off (privacy.releaseSchedule: false): runs are answered when they end.',
          });
        }
        if (opts.reset) schedule.reset(org.id);
        const epoch = schedule.epochOf(org.id);
        const { baseMs, perUserMs, maxEpoch } = schedule.settings;
        printJson({
          organisation: org.name,
          epoch,
          max_epoch: maxEpoch,
          first_slot_ms: 2 ** epoch * baseMs,
          per_user_ms: 2 ** epoch * perUserMs,
        });
      }),
    );

  const analyst = program.command('analyst').description('manage analysts');
  analyst
    .command('create')
    .description('add an analyst to an organisation')
    .requiredOption('--org <org>', 'organisation id or name')
    .requiredOption('--email <email>', "the analyst's e-mail address")
    .requiredOption('--name <name>', "the analyst's name")
    .action(async (opts: { org: string; email: string; name: string }, command: Command) =>
      withPlatform(command, (p) => {
        const orgId = resolveOrg(p, opts.org).id;
        printJson(p.air.organisations.addAnalyst(orgId, opts.email, opts.name));
      }),
    );
}
