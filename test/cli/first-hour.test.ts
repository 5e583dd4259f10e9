// A newcomer's first hour on the command line: tasks by name, site passwords, errors that name
// commands, and a port in use that names the flag to change.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/air/auth/password-hash.ts';
import { buildConfig } from '../../src/config/index.ts';
import { openPlatform, type OpenedPlatform } from '../../src/platform/index.ts';
import { request } from '../support/https-client.ts';
import { startServerProcess, stopServerProcess } from '../support/server-process.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/opencloak.mjs');
const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-first-hour-'));
const dataDir = path.join(dir, 'data');

/** The command's stdout; a failure throws with `stderr` and `status`. */
const cli = (data: string, ...args: string[]) =>
  execFileSync(process.execPath, [BIN, '--data-dir', data, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dir,
  });
function cliFailure(data: string, ...args: string[]) {
  try {
    cli(data, ...args);
  } catch (error) {
    return error as { stderr: string; status: number };
  }
  throw new Error('expected the command to fail');
}

async function withData<T>(
  data: string,
  action: (p: OpenedPlatform) => T | Promise<T>,
): Promise<T> {
  const platform = await openPlatform(buildConfig({ dataDir: data }));
  return Promise.resolve(action(platform)).finally(() => platform.close());
}

async function passwordWorks(email: string, password: string): Promise<boolean> {
  const hash = await withData(
    dataDir,
    async (p) => (await p.air.organisations.findLogin(email))?.passwordHash,
  );
  return hash != null && verifyPassword(password, hash);
}

beforeAll(async () => {
  // What docs/tasks.md assumes: an organisation, a purchases table with data, a task "spend".
  await withData(dataDir, async (p) => {
    const org = await p.air.organisations.create('Acme');
    await p.cloak.data.createTable(org.id, {
      name: 'purchases',
      columns: [{ name: 'amount', type: 'double' }],
    });
    const users = Array.from({ length: 100 }, (_, i) => [
      `u${i}`,
      { purchases: [{ amount: 120 }] },
    ]);
    await p.cloak.data.insert(org.id, Object.fromEntries(users));
    await p.tasks.create(org.id, {
      name: 'spend',
      type: 'batch',
      code: "report_property('customer', 'big spender');",
      prefetch: [{ table: 'purchases' }],
    });
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the command line in the first hour', () => {
  it('runs a task by its name, as docs/tasks.md does', () => {
    const result = JSON.parse(cli(dataDir, 'task', 'run', 'spend', '--org', 'Acme', '--json'));
    expect(result.buckets[0].name).toBe('customer: big spender');
  }, 120_000);

  it('answers an unknown task with the command that lists tasks, not an HTTP endpoint', () => {
    const failed = cliFailure(dataDir, 'task', 'run', 'nosuch', '--org', 'Acme');
    expect(failed.status).toBe(2);
    expect(failed.stderr).toContain('`opencloak task list --org <org>`');
    expect(failed.stderr).not.toMatch(/GET \/|\/api\//);
  }, 120_000);

  it('creates a person with a site password, and sets a new one for a person who lost theirs', async () => {
    const email = 'ada@acme.test';
    const create = ['analyst', 'create', '--org', 'Acme', '--email', email, '--name', 'Ada'];
    const short = cliFailure(dataDir, ...create, '--password', 'short');
    expect(short.stderr).toContain('A site password needs 10 to 1024 characters');
    // A refused password adds nobody, so the same command with a good one works.
    cli(dataDir, ...create, '--password', 'correct horse');
    expect(await passwordWorks(email, 'correct horse')).toBe(true);

    cli(dataDir, 'analyst', 'set-password', email, '--password', 'battery staple');
    expect(await passwordWorks(email, 'battery staple')).toBe(true);
    expect(await passwordWorks(email, 'correct horse')).toBe(false);
  }, 180_000);

  it('names --web-port when that port is taken, without a stack trace, and creates no admin', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const fresh = path.join(dir, 'fresh');
    try {
      const failed = cliFailure(fresh, 'start', '--web-port', String(port), '--cloak-port', '0');
      expect(failed.stderr).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(failed.stderr).toContain('--web-port <port>');
      expect(failed.stderr).not.toMatch(/\n\s+at /);
      expect(failed.status).toBe(2);
    } finally {
      taken.close();
    }
    // The first admin's one-time password is made by the start that succeeds, and shown there.
    expect(await withData(fresh, async (p) => await p.air.organisations.hasAdmin())).toBe(false);
  }, 120_000);

  it('shows the first admin password in one block after the start-up log, with how to set a new one', async () => {
    const server = await startServerProcess(path.join(dir, 'first-start'));
    try {
      const recovery = 'npx opencloak analyst set-password admin@opencloak.local --password';
      for (let i = 0; i < 200 && !server.output().includes(recovery); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const lines = server.output().split('\n');
      const first = lines.findIndex((l) => l.includes('First start: an admin login was created'));
      const block = lines.slice(first, first + 4);
      expect(block[1]).toMatch(/^ {2}e-mail: {3}admin@opencloak\.local$/);
      expect(block[3]).toContain(recovery);
      // No log line in between, and the password shown is the one that logs in.
      const password = /^ {2}password: (\S+)$/.exec(block[2] ?? '')?.[1];
      const ca = readFileSync(path.join(dir, 'first-start/pki/ca.crt'), 'utf8');
      const login = await request(`${server.webUrl}/auth/login`, ca, {
        body: { email: 'admin@opencloak.local', password },
      });
      expect(login.status).toBe(200);
    } finally {
      await stopServerProcess(server);
    }
  }, 120_000);
});
