// Backups keep the noise: `opencloak backup` snapshots both databases, the CA and the noise secret
// while uploads run, `opencloak restore` brings them back, and the same task then publishes the
// same answers. A copy without the noise secret is refused instead of answered with fresh noise.
import Database from 'better-sqlite3';
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { request } from '../support/https-client.ts';
import {
  BIN,
  startServerProcess,
  stopServerProcess,
  type ServerProcess,
} from '../support/server-process.ts';

const CITIES = 13;
/**
 * Enough for every city's bucket to be published (its noisy count must reach 43); the tests that
 * run the task over all 1,300 users through the CLI allow 4 minutes.
 */
const USERS_PER_CITY = 100;
const USERS_PER_REQUEST = 20;
const ROWS_PER_USER = 5;
const CLIENTS = 3;
const KEY_PASSWORD = 'backup-test';

interface Failure {
  status: number;
  stderr: string;
}

describe('backup and restore', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-backup-'));
  const dataDir = path.join(dir, 'data');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (data: string, ...args: string[]) =>
    execFileSync(process.execPath, [BIN, '--data-dir', data, '--json', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: dir,
    });
  const cliFailure = (data: string, ...args: string[]): Failure => {
    try {
      cli(data, ...args);
    } catch (error) {
      return error as Failure;
    }
    throw new Error(`expected \`opencloak ${args.join(' ')}\` to fail`);
  };
  const runTask = (data: string): unknown =>
    JSON.parse(cli(data, 'task', 'run', token, '--org', 'Acme')).buckets;

  let published: unknown;
  let token: string;

  it('sets up an installation whose task publishes one bucket per city', () => {
    cli(dataDir, 'org', 'create', 'Acme');
    cli(dataDir, 'table', 'create', '--org', 'Acme', 'people', 'city:varchar(32)');
    cli(dataDir, 'table', 'create', '--org', 'Acme', 'events', 'n:integer', 'note:text');
    const people: Record<string, unknown> = {};
    for (let i = 0; i < CITIES * USERS_PER_CITY; i++) {
      people[`p${i}`] = { people: [{ city: `c${i % CITIES}` }] };
    }
    writeFileSync(path.join(dir, 'people.json'), JSON.stringify(people));
    cli(dataDir, 'upload', '--org', 'Acme', path.join(dir, 'people.json'));
    token = JSON.parse(
      cli(
        dataDir,
        'task',
        'create',
        '--org',
        'Acme',
        '--name',
        'cities',
        '--prefetch',
        '[{"table":"people"}]',
        '--code',
        'report_property("city", tables.people[0].city);',
      ),
    ).token;
    published = runTask(dataDir);
    expect(published).toHaveLength(CITIES);
  }, 240_000);

  it('refuses a copy without secrets/ instead of answering with fresh noise (the issue’s probe)', () => {
    const copy = path.join(dir, 'copy-without-secrets');
    mkdirSync(copy);
    cpSync(path.join(dataDir, 'pki'), path.join(copy, 'pki'), { recursive: true });
    for (const file of ['air.db', 'cloak.db']) {
      // With the server stopped, each database is whole in its main file.
      cpSync(path.join(dataDir, file), path.join(copy, file));
    }
    // Before: the run succeeded with a new secret, and 8 of 13 buckets changed.
    const refused = cliFailure(copy, 'task', 'run', token, '--org', 'Acme');
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(path.join(copy, 'secrets', 'noise.key'));
    expect(refused.stderr).toContain('opencloak restore');
  }, 60_000);

  let server: ServerProcess;
  let backupDir: string;

  it('backs up while uploads run: every request acknowledged before it is there, none in part', async () => {
    const key = JSON.parse(
      cli(
        dataDir,
        'key',
        'create',
        '--org',
        'Acme',
        '--type',
        'upload_any',
        '--description',
        'backup test',
        '--password',
        KEY_PASSWORD,
        '--out',
        dir,
        '--name',
        'uploader',
      ),
    );
    server = await startServerProcess(dataDir);
    const ca = readFileSync(path.join(dataDir, 'pki', 'ca.crt'), 'utf8');
    const agent = new https.Agent({
      keepAlive: true,
      pfx: readFileSync(key.pfx),
      passphrase: KEY_PASSWORD,
      ca,
    });
    backupDir = path.join(dir, 'backup');
    const acknowledged = new Set<number>();
    let ackedBeforeBackup: number[] = [];
    let inFlightAtStart = 0;
    let inFlight = 0;
    let next = 0;
    let done = false;
    let backup: Promise<{ code: number | null; stderr: string }> | undefined;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (!done) {
          const k = next++;
          inFlight++;
          const response = await request(`${server.cloakUrl}/bulk_insert`, ca, {
            body: requestBody(k),
            agent,
          });
          inFlight--;
          expect(response.status, response.text).toBe(200);
          acknowledged.add(k);
          if (acknowledged.size === 10 && !backup) {
            ackedBeforeBackup = [...acknowledged];
            inFlightAtStart = inFlight;
            backup = runCli(dataDir, 'backup', backupDir).finally(() => (done = true));
          }
        }
      }),
    );
    agent.destroy();
    const result = await backup!;
    expect(result.code, result.stderr).toBe(0);
    // Uploads were in flight when the backup started and went on while it ran.
    expect(inFlightAtStart).toBeGreaterThan(0);
    expect(acknowledged.size).toBeGreaterThan(ackedBeforeBackup.length);

    const db = new Database(path.join(backupDir, 'cloak.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const counts = requestCounts(db);
      const whole = USERS_PER_REQUEST * ROWS_PER_USER;
      for (const k of ackedBeforeBackup) expect(counts.get(k), `request ${k}`).toBe(whole);
      for (const [k, n] of counts) expect(n, `request ${k} is in the backup in part`).toBe(whole);
    } finally {
      db.close();
    }
    const manifest = JSON.parse(readFileSync(path.join(backupDir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 'opencloak-backup', version: 1 });
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(
      expect.arrayContaining(['air.db', 'cloak.db', 'pki/ca.crt', 'secrets/noise.key']),
    );
    expect(statSync(path.join(backupDir, 'secrets')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(backupDir, 'secrets', 'noise.key')).mode & 0o777).toBe(0o600);
  }, 180_000);

  it('refuses to restore over a running server or into a directory that holds data', () => {
    const overRunning = cliFailure(dataDir, 'restore', backupDir, '--force');
    expect(overRunning.status).toBe(2);
    expect(overRunning.stderr).toContain(
      `data directory ${dataDir} is in use by process ${server.child.pid}`,
    );
    const occupied = path.join(dir, 'occupied');
    mkdirSync(occupied);
    writeFileSync(path.join(occupied, 'air.db'), 'not empty');
    writeFileSync(path.join(occupied, 'notes.txt'), 'not ours');
    const notEmpty = cliFailure(occupied, 'restore', backupDir);
    expect(notEmpty.status).toBe(2);
    expect(notEmpty.stderr).toContain('--force');
    expect(notEmpty.stderr).toContain('air.db, notes.txt');
    expect(readFileSync(path.join(occupied, 'air.db'), 'utf8')).toBe('not empty');
  }, 60_000);

  it('restores into a new directory, where the same task publishes byte-identical results', async () => {
    await stopServerProcess(server);
    const restored = path.join(dir, 'restored');
    cli(restored, 'restore', backupDir);
    expect(statSync(path.join(restored, 'secrets')).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(restored, 'secrets', 'noise.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(restored, 'secrets', 'noise.key'))).toEqual(
      readFileSync(path.join(dataDir, 'secrets', 'noise.key')),
    );
    expect(JSON.stringify(runTask(restored))).toBe(JSON.stringify(published));

    // --force replaces the installation in a directory that holds one.
    const occupied = path.join(dir, 'occupied');
    cli(occupied, 'restore', backupDir, '--force');
    expect(JSON.stringify(runTask(occupied))).toBe(JSON.stringify(published));
    // Files of other programs stay.
    expect(readFileSync(path.join(occupied, 'notes.txt'), 'utf8')).toBe('not ours');
  }, 240_000);
});

function requestBody(k: number) {
  const body: Record<string, { events: Array<{ n: number; note: string }> }> = {};
  for (let u = 0; u < USERS_PER_REQUEST; u++) {
    body[`r${k}-u${u}`] = {
      events: Array.from({ length: ROWS_PER_USER }, (_, i) => ({ n: k * 1000 + i, note: 'x' })),
    };
  }
  return body;
}

/** Rows stored per upload request k (its users are named r<k>-u<j>). */
function requestCounts(db: Database.Database): Map<number, number> {
  const { id } = db.prepare("SELECT id FROM data_tables WHERE name = 'events'").get() as {
    id: number;
  };
  const rows = db
    .prepare(
      `SELECT substr(ac_user_id, 2, instr(ac_user_id, '-') - 2) AS k, count(*) AS n
       FROM data_rows_${id} WHERE ac_user_id LIKE 'r%' GROUP BY k`,
    )
    .all() as Array<{ k: string; n: number }>;
  return new Map(rows.map((row) => [Number(row.k), row.n]));
}

function runCli(
  dataDir: string,
  ...args: string[]
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}
