// Scenario: `opencloak import` of a 1M-row CSV file vs a better-sqlite3 insert loop; PostgreSQL COPY of the same file as a second reference.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../harness.ts';
import { batches, insertLoop, ROWS_PER_USER, TABLE, users } from './ingest.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/opencloak.mjs');
/** Where the PostgreSQL reference is looked for; psql reads PGUSER, PGPASSWORD, PGDATABASE. */
const POSTGRES = { host: '127.0.0.1', port: '5432' };
const PG_TABLE = 'opencloak_bench_import';

/** The ingest scenario's rows (the same layout and values), as one CSV file with a header line. */
function writeCsv(dir: string, totalUsers: number): string {
  const columns = TABLE.columns.map((c) => c.name);
  const parts = [`user_id,${columns.join(',')}\n`];
  for (const batch of batches(totalUsers)) {
    for (const [user, { events }] of Object.entries(batch)) {
      for (const row of events) parts.push(`${user},${columns.map((c) => row[c]).join(',')}\n`);
    }
  }
  const file = path.join(dir, 'events.csv');
  writeFileSync(file, parts.join(''));
  return file;
}

function run(command: string, args: string[], cwd: string) {
  const started = process.hrtime.bigint();
  const done = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return { ...done, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** rows/s of psql's \copy of the file into a plain table, or why it was not measured. */
function postgresCopy(csv: string, rows: number): number | string {
  const psql = (...commands: string[]) =>
    run(
      'psql',
      [
        ...['-h', POSTGRES.host, '-p', POSTGRES.port, '-X', '-q', '-w'],
        ...['-v', 'ON_ERROR_STOP=1', ...commands.flatMap((c) => ['-c', c])],
      ],
      ROOT,
    );
  const created = psql(
    `DROP TABLE IF EXISTS ${PG_TABLE}`,
    `CREATE TABLE ${PG_TABLE} (user_id text, kind varchar(16), amount float8, count integer, ts bigint)`,
  );
  if (created.error || created.status !== 0) {
    const why = created.error?.message ?? created.stderr.trim().split('\n')[0];
    return `skipped: no PostgreSQL reachable at ${POSTGRES.host}:${POSTGRES.port} (${why})`;
  }
  try {
    const copied = psql(`\\copy ${PG_TABLE} FROM '${csv}' WITH (FORMAT csv, HEADER true)`);
    if (copied.status !== 0) return `failed: ${copied.stderr.trim()}`;
    return Math.round(rows / copied.seconds);
  } finally {
    psql(`DROP TABLE IF EXISTS ${PG_TABLE}`);
  }
}

export const importScenario: Scenario = {
  name: 'import',
  description:
    '`opencloak import` of a CSV file (a process, from start to exit) vs a better-sqlite3 insert loop of the same rows into the same layout; PostgreSQL COPY in notes',
  better: 'higher',
  targetRatio: 0.5,
  sides: {
    async figure(size) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-import-'));
      try {
        const csv = writeCsv(dir, users(size));
        const cli = (...args: string[]) => {
          const done = run(
            process.execPath,
            [BIN, '--data-dir', path.join(dir, 'data'), ...args],
            dir,
          );
          if (done.status !== 0) throw new Error(`opencloak ${args[0]} failed: ${done.stderr}`);
          return done;
        };
        cli('org', 'create', 'bench');
        cli(
          'table',
          'create',
          '--org',
          'bench',
          'events',
          ...TABLE.columns.map((c) => `${c.name}:${c.type}`),
        );
        const imported = cli('import', csv, '--org', 'bench', '--table', 'events');
        return { value: (users(size) * ROWS_PER_USER) / imported.seconds, unit: 'rows/s' };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async baseline(size) {
      const rows = users(size) * ROWS_PER_USER;
      const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-import-'));
      try {
        const copy = postgresCopy(writeCsv(dir, users(size)), rows);
        return {
          value: insertLoop(batches(users(size)), 'clustered'),
          unit: 'rows/s',
          notes: { 'PostgreSQL COPY rows/s': copy },
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
};
