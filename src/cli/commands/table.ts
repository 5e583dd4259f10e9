// CLI: define user tables and upload data files into the cloak.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../errors/index.ts';
import {
  JsonTextProblem,
  parseJsonText,
  showJsonPath,
  uploadKeyName,
  type JsonPath,
} from '../../shared/index.ts';
import { resolveOrg, withPlatform } from '../context.ts';
import { printResult } from '../output.ts';

/** "amount:double" -> { name: "amount", type: "double" }. */
export function parseColumn(spec: string) {
  const colon = spec.indexOf(':');
  if (colon <= 0 || colon === spec.length - 1) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `Column "${spec}" must be written name:type, e.g. amount:double or city:varchar(64).`,
    });
  }
  return { name: spec.slice(0, colon), type: spec.slice(colon + 1) };
}

/** A JSON file; a key given twice in one object is refused (DUPLICATE_KEY, named by `keyName`). */
export function readJsonFile(
  file: string,
  keyName: (path: JsonPath, key: string) => string = byPath,
): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `Cannot read ${file}: ${(error as Error).message}`,
    });
  }
  try {
    return parseJsonText(text);
  } catch (error) {
    if (!(error instanceof JsonTextProblem)) throw error;
    if (error.kind === 'duplicate') {
      throw new AppError('DUPLICATE_KEY', {
        what: `${file}: ${keyName(error.path, error.key)}`,
        position: error.position ?? '?',
      });
    }
    throw new AppError('INVALID_JSON', { detail: `${file}: ${error.message}` });
  }
}

/** A key of a JSON file by its path, for files other than uploads. */
function byPath(path: JsonPath, key: string): string {
  return path.length === 0 ? `the key "${key}"` : `the key "${key}" at ${showJsonPath(path)}`;
}

export function registerTableCommands(program: Command): void {
  const table = program.command('table').description('manage user tables in the cloak');

  table
    .command('create <name> <columns...>')
    .description(
      'create a table, columns as name:type (integer, bigint, float, double, boolean, varchar(N), text)',
    )
    .requiredOption('--org <org>', 'organisation id or name')
    .action(async (name: string, columns: string[], opts: { org: string }, command: Command) =>
      withPlatform(command, async (p) => {
        const orgId = (await resolveOrg(p, opts.org)).id;
        printResult(
          await p.cloak.data.createTable(orgId, { name, columns: columns.map(parseColumn) }),
        );
      }),
    );

  table
    .command('list')
    .description("list an organisation's tables")
    .requiredOption('--org <org>', 'organisation id or name')
    .action(async (opts: { org: string }, command: Command) =>
      withPlatform(command, async (p) =>
        printResult(await p.cloak.data.listTables((await resolveOrg(p, opts.org)).id)),
      ),
    );

  program
    .command('upload <file>')
    .description('upload a JSON file in the /bulk_insert form {"<user id>": {"<table>": [rows]}}')
    .requiredOption('--org <org>', 'organisation id or name')
    .action(async (file: string, opts: { org: string }, command: Command) =>
      withPlatform(command, async (p) => {
        const orgId = (await resolveOrg(p, opts.org)).id;
        printResult({
          success: true,
          ...(await p.cloak.data.insert(orgId, readJsonFile(file, uploadKeyName))),
        });
      }),
    );
}
