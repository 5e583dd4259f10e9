// CLI: read the audit log (key creation, download, revocation, logins, failed authentications).
import type { Command } from 'commander';
import { resolveOrg, withPlatform } from '../context.ts';
import { printResult } from '../output.ts';

export function registerAuditCommands(program: Command): void {
  program
    .command('audit')
    .description('show the newest audit log entries (never contains secrets)')
    .option('--org <org>', "only this organisation's entries")
    .option('--limit <n>', 'how many entries', '100')
    .action(async (opts: { org?: string; limit: string }, command: Command) =>
      withPlatform(command, async (p) => {
        const orgId = opts.org === undefined ? undefined : (await resolveOrg(p, opts.org)).id;
        printResult(
          await p.air.audit.list(orgId, Math.max(1, Math.min(10_000, Number(opts.limit) || 100))),
        );
      }),
    );
}
