// Exactly once after a crash: `opencloak import` killed with SIGKILL several times, each time resumed with --resume, stores every line once.
import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliCommand } from '../support/server-process.ts';

const LINES = 120_000;
const BATCH_ROWS = 1000;
const KILLS = 4;

describe('opencloak import killed with SIGKILL', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-import-kill9-'));
  const dataDir = path.join(dir, 'data');
  const file = path.join(dir, 'events.ndjson');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) =>
    spawnSync(process.execPath, cliCommand(['--data-dir', dataDir, ...args]), {
      encoding: 'utf8',
    });
  const importArgs = (...extra: string[]) =>
    cliCommand([
      '--data-dir',
      dataDir,
      'import',
      file,
      '--org',
      'Shop',
      '--table',
      'events',
      '--batch-rows',
      String(BATCH_ROWS),
      ...extra,
    ]);

  /** Rows stored, and distinct line numbers among them (cloak.db, read-only). */
  const stored = () => {
    const db = new Database(path.join(dataDir, 'cloak.db'), { readonly: true, timeout: 5000 });
    try {
      const id = db.prepare("SELECT id FROM data_tables WHERE name = 'events'").pluck().get();
      return db
        .prepare(`SELECT count(*) AS rows, count(DISTINCT n) AS lines FROM data_rows_${id}`)
        .get() as { rows: number; lines: number };
    } finally {
      db.close();
    }
  };

  it('stores every line exactly once over kills and resumes', async () => {
    expect(cli('org', 'create', 'Shop').status).toBe(0);
    expect(cli('table', 'create', 'events', 'n:integer', '--org', 'Shop').status).toBe(0);
    const lines = Array.from(
      { length: LINES },
      (_, i) => `{"user_id":"u${i % 5000}","n":${i + 1}}`,
    );
    writeFileSync(file, `${lines.join('\n')}\n`);

    const atKills: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const before = stored().rows;
      const child = spawn(process.execPath, importArgs(...(kill > 0 ? ['--resume'] : [])), {
        stdio: 'ignore',
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      // Killed once it has stored a few more batches, wherever it is then.
      const watcher = setInterval(() => {
        if (stored().rows >= before + 3 * BATCH_ROWS) child.kill('SIGKILL');
      }, 5);
      const signal = await exited;
      clearInterval(watcher);
      atKills.push(stored().rows);
      if (signal !== 'SIGKILL') break;
    }
    const finished = spawnSync(process.execPath, importArgs('--resume'), { encoding: 'utf8' });
    expect(finished.status, finished.stderr).toBe(0);
    const again = spawnSync(process.execPath, importArgs('--resume', '--json'), {
      encoding: 'utf8',
    });
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ rows: 0, resumedAfterLine: LINES });

    const final = stored();
    console.log(
      `import kill -9: rows stored at each kill ${atKills.join(', ')}; after --resume ${final.rows} rows, ${final.lines} distinct lines of ${LINES}`,
    );
    expect(atKills.some((rows) => rows > 0 && rows < LINES)).toBe(true);
    expect(final).toEqual({ rows: LINES, lines: LINES });
  }, 240_000);
});
