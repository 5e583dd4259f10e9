// CLI: an organisation's participation budget, as its analysts see it (GET /api/budget).
import type { Command } from 'commander';
import { resolveOrg, withPlatform } from '../context.ts';
import { printResult } from '../output.ts';

export function registerBudgetCommand(program: Command): void {
  program
    .command('budget')
    .description(
      "show an organisation's participation budget: settings, notices this period, the next " +
        "notice's noise and the latest notices (noisy counts already published, so showing them " +
        'again costs nothing; docs/anonymization.md, "The participation budget")',
    )
    .requiredOption('--org <org>', 'organisation id or name')
    .option('--limit <n>', 'how many of the latest notices to list (1 to 100)', '20')
    .action(async (opts: { org: string; limit: string }, command: Command) =>
      withPlatform(command, async (p) => {
        const { budgetView, parseNoticeLimit } = await import('../../air/index.ts');
        printResult(
          await budgetView(
            p.cloakPort,
            (await resolveOrg(p, opts.org)).id,
            parseNoticeLimit(opts.limit, '--limit'),
          ),
        );
      }),
    );
}
