// Exactly once after a crash: a streaming pass killed with SIGKILL, then resumed, advances each user's accumulator once per arrival.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/index.ts';
import { openCloak } from '../../src/cloak/index.ts';
import { STREAMING_ORG, STREAMING_TASK } from '../support/streaming-pass.ts';

const CHILD = path.resolve(import.meta.dirname, '../support/streaming-pass.ts');
/** Several steps of 512 users: the pass is killed once some steps are saved and others not. */
const USERS = 3000;
const KILLS = 3;

/** Runs a pass in a child process; resolves with its exit once it ended or `kill` said so. */
function passInChild(dataDir: string, killWhen?: () => boolean) {
  const child = spawn(
    process.execPath,
    ['--no-node-snapshot', '--import', import.meta.resolve('tsx'), CHILD, 'run-pass', dataDir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const watcher =
    killWhen &&
    setInterval(() => {
      if (killWhen()) child.kill('SIGKILL');
    }, 10);
  return new Promise<{ signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.on('exit', (_code, signal) => {
      clearInterval(watcher);
      resolve({ signal, output });
    }),
  );
}

describe('streaming pass killed with SIGKILL', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-streaming-kill9-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  /** Users whose state is saved, and how many arrivals their accumulators say they saw. */
  const saved = () => {
    const db = new Database(path.join(dataDir, 'cloak.db'), { readonly: true, timeout: 5000 });
    try {
      return db
        .prepare('SELECT accumulator FROM streaming_users WHERE task_key = ?')
        .pluck()
        .all(STREAMING_TASK) as Array<string | null>;
    } catch {
      return []; // the table does not exist before the first pass
    } finally {
      db.close();
    }
  };

  it('advances every accumulator exactly once for one arrival, across kills mid-pass', async () => {
    const cloak = await openCloak(buildConfig({ dataDir }));
    await cloak.data.createTable(STREAMING_ORG, {
      name: 't',
      columns: [{ name: 'n', type: 'integer' }],
    });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`u${u}`] = { t: [{ n: u }] };
    await cloak.data.insert(STREAMING_ORG, rows);
    await cloak.close();

    const savedAtKills: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const before = saved().length;
      // Killed once another step (512 users) has been saved since it started.
      const ended = await passInChild(dataDir, () => saved().length >= before + 512);
      savedAtKills.push(saved().length);
      if (ended.signal !== 'SIGKILL') break; // the pass finished before it could be killed
    }
    const finished = await passInChild(dataDir);
    expect(finished.output).toContain('pass done');

    const accumulators = saved();
    console.log(
      `streaming kill -9: users saved at each kill ${savedAtKills.join(', ')} of ${USERS}; ` +
        `accumulators after the resumed pass: ${JSON.stringify(countValues(accumulators))}`,
    );
    // At least one kill landed in the middle of the pass.
    expect(savedAtKills.some((n) => n > 0 && n < USERS)).toBe(true);
    expect(accumulators).toHaveLength(USERS);
    expect(countValues(accumulators)).toEqual({ '1': USERS });
  }, 240_000);
});

function countValues(values: Array<string | null>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}
