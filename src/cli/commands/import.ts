// CLI: import a CSV or NDJSON file into a user table, streamed, with progress on stderr.
import { createReadStream, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Option, type Command } from 'commander';
import { AppError } from '../../errors/index.ts';
import { resolveOrg, withPlatform } from '../context.ts';
import { printResult } from '../output.ts';

interface ImportFlags {
  org: string;
  table: string;
  format?: string;
  userColumn: string;
  batchRows: string;
  fromLine: string;
  resume?: boolean;
}

export function registerImportCommand(program: Command): void {
  program
    .command('import <file>')
    .description(
      'import a CSV (header line naming the columns) or NDJSON file (one JSON object per line) into a table; "-" reads stdin',
    )
    .requiredOption('--org <org>', 'organisation id or name')
    .requiredOption('--table <table>', 'the table the rows go into')
    .addOption(
      new Option('--format <format>', 'file format (default: from the file extension)').choices([
        'csv',
        'ndjson',
        'jsonl',
      ]),
    )
    .option('--user-column <name>', 'the field naming each row’s user', 'user_id')
    .option('--batch-rows <n>', 'rows per transaction: a bad line loses only its batch', '5000')
    .option('--from-line <n>', 'skip the lines before this one (to resume a failed import)', '1')
    .option(
      '--resume',
      'continue after the last line an earlier import of this file into this table stored (also after kill -9; nothing is stored twice)',
    )
    .action(async (file: string, flags: ImportFlags, command: Command) =>
      withPlatform(command, async (p) => {
        const orgId = (await resolveOrg(p, flags.org)).id;
        const format = importFormat(file, flags.format);
        const batchRows = positiveInteger(flags.batchRows, '--batch-rows');
        const fromLine = positiveInteger(flags.fromLine, '--from-line');
        const { input, size } = openInput(file);
        const progress = importProgress(size);
        const result = await p.cloak.data.importFile(orgId, input, {
          format,
          table: flags.table,
          userColumn: flags.userColumn,
          source: file === '-' ? 'stdin' : path.basename(file),
          batchRows,
          fromLine,
          // The same file (by its real path) into the same table is the same import.
          importId: `${flags.table}:${file === '-' ? 'stdin' : realpathSync(file)}`,
          resume: flags.resume === true,
          onProgress: progress.update,
        });
        progress.end();
        printResult({ success: true, ...result });
      }),
    );
}

function importFormat(file: string, flag: string | undefined): 'csv' | 'ndjson' {
  const format = (flag ?? path.extname(file).slice(1)).toLowerCase();
  if (format === 'csv') return 'csv';
  if (format === 'ndjson' || format === 'jsonl') return 'ndjson';
  throw new AppError('INVALID_PARAMETER', {
    detail: `Cannot tell the format of "${file}"; give --format csv or --format ndjson.`,
  });
}

function positiveInteger(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `${flag} must be a whole number of at least 1, got "${raw}".`,
    });
  }
  return n;
}

function openInput(file: string): { input: Readable; size: number | undefined } {
  if (file === '-') return { input: process.stdin, size: undefined };
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `Cannot read ${file}: ${(error as Error).message}`,
    });
  }
  return { input: createReadStream(file), size };
}

/** Redrawn in place on a terminal; elsewhere (logs, pipes) a line per tenth of the file. */
function importProgress(size: number | undefined, stream: NodeJS.WriteStream = process.stderr) {
  let lastTenth = -1;
  return {
    update({ rows, line, bytes }: { rows: number; line: number; bytes: number }) {
      const share = size ? Math.min(1, bytes / size) : undefined;
      const text =
        `imported ${rows.toLocaleString('en')} rows, up to line ${line.toLocaleString('en')}` +
        (share !== undefined ? ` (${Math.floor(share * 100)}%)` : '');
      if (stream.isTTY) {
        stream.write(`\r${text}`);
        return;
      }
      const tenth = share !== undefined ? Math.floor(share * 10) : Math.floor(rows / 100_000);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${text}\n`);
    },
    end() {
      if (stream.isTTY) stream.write('\n');
    },
  };
}
