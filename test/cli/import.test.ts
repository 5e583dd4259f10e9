// `opencloak import`: CSV and NDJSON files into a table, progress on stderr, line-exact errors, resuming.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = path.resolve(import.meta.dirname, '../../bin/opencloak.mjs');

/**
 * Each command is a process that compiles TypeScript at start: seconds on a quiet machine, 20 s
 * and more at load 30, where several commands overran the 60 s default. A guard, not a measure.
 */
const COMMANDS_TIMEOUT_MS = 600_000;

describe('opencloak import', { timeout: COMMANDS_TIMEOUT_MS }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-import-'));
  const dataDir = path.join(dir, 'data');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) => {
    const run = spawnSync(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
      encoding: 'utf8',
      cwd: dir,
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };
  const file = (name: string, text: string) => {
    const full = path.join(dir, name);
    writeFileSync(full, text);
    return full;
  };

  beforeAll(() => {
    expect(cli('org', 'create', 'Shop').status).toBe(0);
    const created = cli(
      'table',
      'create',
      'buys',
      'item:varchar(20)',
      'price:double',
      '--org',
      'Shop',
    );
    expect(created.status, created.stderr).toBe(0);
  });

  it('imports a CSV file with progress on stderr and counts on stdout', () => {
    const lines = [
      'customer,item,price',
      ...Array.from({ length: 250 }, (_, i) => `c${i % 40},item ${i},${i / 4}`),
    ];
    const run = cli(
      '--json',
      'import',
      file('buys.csv', `${lines.join('\n')}\n`),
      '--org',
      'Shop',
      '--table',
      'buys',
      '--user-column',
      'customer',
      '--batch-rows',
      '100',
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ success: true, rows: 250, users: 40, lines: 251 });
    expect(run.stderr).toContain('imported 100 rows, up to line 101 (');
    expect(run.stderr).toContain('imported 250 rows, up to line 251 (100%)');
  });

  it('imports NDJSON, fails at a bad line naming it, and resumes from there', () => {
    const rows = Array.from({ length: 6 }, (_, i) =>
      JSON.stringify({ user_id: `n${i}`, item: 'x', price: i }),
    );
    rows[4] = JSON.stringify({ user_id: 'n4', item: 'x', price: 'four' });
    const bad = file('more.jsonl', rows.join('\n'));
    const failed = cli('import', bad, '--org', 'Shop', '--table', 'buys', '--batch-rows', '2');
    expect(failed.status).toBe(2);
    expect(failed.stderr).toContain(
      'more.jsonl, line 5: column "price": expected a finite number (double)',
    );
    expect(failed.stderr).toContain('resume with --from-line 5');

    rows[4] = JSON.stringify({ user_id: 'n4', item: 'x', price: 4 });
    file('more.jsonl', rows.join('\n'));
    const resumed = cli(
      '--json',
      'import',
      bad,
      '--org',
      'Shop',
      '--table',
      'buys',
      '--from-line',
      '5',
    );
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ rows: 2 });
  });

  it('refuses an unknown format and a bad --batch-rows', () => {
    expect(cli('import', file('x.txt', ''), '--org', 'Shop', '--table', 'buys').stderr).toContain(
      '--format csv or --format ndjson',
    );
    expect(
      cli('import', file('y.csv', ''), '--org', 'Shop', '--table', 'buys', '--batch-rows', '0')
        .stderr,
    ).toContain('--batch-rows must be a whole number');
  });
});
