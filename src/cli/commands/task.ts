// CLI: create and run tasks, and print their results in the web REST API's form.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { Schedule } from '../../air/index.ts';
import { AppError } from '../../errors/index.ts';
import {
  TASK_LANGUAGES,
  TASK_TYPES,
  type PrefetchSpec,
  type TaskLanguage,
} from '../../shared/index.ts';
import { printNote, resolveOrg, taskRef, withPlatform } from '../context.ts';
import { printResult } from '../output.ts';
import { progressBar } from '../progress-bar.ts';
import { readJsonFile } from './table.ts';

interface CreateOptions {
  org: string;
  name: string;
  code?: string;
  codeFile?: string;
  prefetch?: string;
  prefetchFile?: string;
  type: string;
  language?: string;
  schedule?: string;
}

function readCode(opts: CreateOptions): string {
  if (opts.codeFile) return readFileSync(opts.codeFile, 'utf8');
  if (opts.code) return opts.code;
  throw new AppError('INVALID_PARAMETER', {
    detail: 'Give the task code with --code-file <file.js> or --code <source>.',
  });
}

function parseJsonOption(option: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError('INVALID_JSON', { detail: `${option}: ${(error as Error).message}` });
  }
}

function readPrefetch(opts: CreateOptions, language: string): PrefetchSpec[] {
  if (opts.prefetchFile) return readJsonFile(opts.prefetchFile) as PrefetchSpec[];
  if (opts.prefetch) return parseJsonOption('--prefetch', opts.prefetch) as PrefetchSpec[];
  // A sql task's query names its tables; the cloak derives the selection from it.
  if (language === 'sql') return [];
  throw new AppError('INVALID_PARAMETER', {
    detail:
      'Give the data selection with --prefetch \'[{"table":"purchases"}]\' or --prefetch-file <file.json>.',
  });
}

/** The language a code file's ending suggests: .ts TypeScript, .sql SQL, else JavaScript. */
function languageOfFile(file: string | undefined): string {
  if (file?.endsWith('.ts')) return 'typescript';
  if (file?.endsWith('.sql')) return 'sql';
  return 'javascript';
}

/** The commands that run a task: a sandbox process starts while the platform opens. */
const RUNS_TASK = { runsTask: true };

export function registerTaskCommands(program: Command): void {
  const task = program.command('task').description('create and run tasks');

  task
    .command('create')
    .description('create a task')
    .requiredOption('--org <org>', 'organisation id or name')
    .requiredOption('--name <name>', 'task name, unique in the organisation')
    .option('--code <source>', 'task code (JavaScript, TypeScript, or a SQL query)')
    .option('--code-file <file>', 'file with the task code')
    .option(
      '--prefetch <json>',
      'data selection, e.g. [{"table":"purchases"}] (not for sql: the query names its tables)',
    )
    .option('--prefetch-file <file>', 'file with the data selection')
    // Choices, so that a wrong one is a wrong command line (exit 64), as for `key create --type`.
    .addOption(new Option('--type <type>', 'task type').choices(TASK_TYPES).default('batch'))
    .addOption(
      new Option(
        '--language <language>',
        'task language (default: by the --code-file ending, .ts or .sql; else javascript)',
      ).choices(TASK_LANGUAGES),
    )
    .option(
      '--schedule <json>',
      'for periodic tasks: {"every_seconds":3600} or {"cron":"0 6 * * 1"}',
    )
    .action(async (opts: CreateOptions, command: Command) =>
      withPlatform(command, async (p) => {
        const orgId = (await resolveOrg(p, opts.org)).id;
        const language = opts.language ?? languageOfFile(opts.codeFile);
        const schedule =
          opts.schedule !== undefined ? parseJsonOption('--schedule', opts.schedule) : undefined;
        // Checked here first, so that its errors name --schedule rather than the API's field.
        const { checkSchedule, CLI_SCHEDULE_NAMING } = await import('../../air/schedule.ts');
        checkSchedule(opts.type, schedule, CLI_SCHEDULE_NAMING);
        const created = await p.tasks.create(orgId, {
          name: opts.name,
          type: opts.type as 'batch',
          code: readCode(opts),
          prefetch: readPrefetch(opts, language),
          language: language as TaskLanguage,
          ...(schedule !== undefined ? { schedule: schedule as Schedule } : {}),
        });
        printResult({
          id: created.id,
          token: created.token,
          name: created.name,
          type: created.type,
        });
      }),
    );

  task
    .command('list')
    .description("list an organisation's tasks")
    .requiredOption('--org <org>', 'organisation id or name')
    .action(async (opts: { org: string }, command: Command) =>
      withPlatform(command, async (p) =>
        printResult(
          (await p.air.tasks.list((await resolveOrg(p, opts.org)).id)).map(
            ({ id, token, name, type }) => ({ id, token, name, type }),
          ),
        ),
      ),
    );

  task
    .command('run <task>')
    .description(
      'run a batch task (by id, token or name) and print its published result; progress, and what ' +
        'the run says about the participation budget, go to stderr; Ctrl-C cancels the run ' +
        'without publishing anything',
    )
    .requiredOption('--org <org>', 'organisation id or name')
    .action(async (ref: string, opts: { org: string }, command: Command) =>
      withPlatform(
        command,
        async (p) => {
          const orgId = (await resolveOrg(p, opts.org)).id;
          const token = await taskRef(p, orgId, ref);
          // Before the run, not after it: a build replaced meanwhile keeps its chunks only so long.
          const { toApiItem } = await import('../../air/index.ts');
          const { run, finished } = await p.tasks.startBatch(orgId, token, { background: true });
          const bar = progressBar();
          const timer = setInterval(() => bar.update(run.progress), 200);
          const cancel = () => void p.tasks.runs.cancel(orgId, run.taskId, run.id);
          process.once('SIGINT', cancel);
          try {
            const result = await finished;
            bar.update(run.progress);
            bar.end();
            printResult(toApiItem(result));
            if (result.budget) printNote(`participation budget: ${result.budget.message}`);
          } finally {
            clearInterval(timer);
            process.off('SIGINT', cancel);
          }
        },
        RUNS_TASK,
      ),
    );

  task
    .command('preview <task>')
    .description(
      'preview the cost of running a task (by id, token or name): it runs as `task run` would, is ' +
        "settled against the participation budget and rolled back, so nobody's budget is spent " +
        'and nothing is published; prints the notice the run would publish (how many users it ' +
        "would leave out, noisy), and its message on stderr. It uses one of the period's budget " +
        'notices, so the next notice is a little noisier',
    )
    .requiredOption('--org <org>', 'organisation id or name')
    .action(async (ref: string, opts: { org: string }, command: Command) =>
      withPlatform(
        command,
        async (p) => {
          const orgId = (await resolveOrg(p, opts.org)).id;
          const preview = await p.tasks.preview(orgId, await taskRef(p, orgId, ref));
          printResult(preview);
          printNote(`participation budget: ${preview.message}`);
        },
        RUNS_TASK,
      ),
    );

  task
    .command('results <task>')
    .description("print a task's results (by id, token or name), newest first")
    .requiredOption('--org <org>', 'organisation id or name')
    .option('--page <n>', 'page number', '1')
    .option('--per-page <n>', 'results per page', '10')
    .action(
      async (ref: string, opts: { org: string; page: string; perPage: string }, command: Command) =>
        withPlatform(command, async (p) => {
          // The options first: a wrong --page is the same mistake whatever the task.
          const { parsePagination } = await import('../../http/index.ts');
          const { page, perPage } = parsePagination(
            { page: opts.page, per_page: opts.perPage },
            p.config.web.maxPerPage,
            { page: '--page', perPage: '--per-page' },
          );
          const orgId = (await resolveOrg(p, opts.org)).id;
          const found = await p.tasks.find(orgId, await taskRef(p, orgId, ref));
          const { toApiItem } = await import('../../air/index.ts');
          printResult({
            count: await p.air.results.count(found.id),
            page,
            per_page: perPage,
            items: (await p.air.results.page(found.id, page, perPage)).map(toApiItem),
          });
        }),
    );
}
