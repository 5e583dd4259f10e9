// CLI: organisations and analysts.
import type { Command } from 'commander';
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
