// A periodic period cut off by kill -9: it publishes nothing and is not run again; the next period runs as scheduled (docs/tasks.md).
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/index.ts';
import { openPlatform, startPlatform } from '../../src/platform/index.ts';
import { liveSandboxProcesses } from '../../src/sandbox/test-support.ts';
import { exited, startServerProcess } from '../support/server-process.ts';

const PERIOD_MS = 3_600_000;
const USERS = 400;
/** Some work per user, so that the run is still going when the server is killed. */
const CODE = `let x = 0; for (let i = 0; i < 200000; i++) x += i % 7;
report_property('group', tables.t[0].g);`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('periodic task killed mid-period', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-periodic-kill9-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const airRow = <T>(sql: string, ...params: unknown[]): T => {
    const db = new Database(path.join(dataDir, 'air.db'), { timeout: 5000 });
    try {
      const statement = db.prepare(sql);
      return (statement.reader ? statement.get(...params) : statement.run(...params)) as T;
    } finally {
      db.close();
    }
  };

  it('publishes nothing for the cut-off period and runs the next one on time', async () => {
    const setup = await openPlatform(buildConfig({ dataDir }));
    const orgId = (await setup.air.organisations.create('Hourly')).id;
    await setup.cloak.data.createTable(orgId, {
      name: 't',
      columns: [{ name: 'g', type: 'integer' }],
    });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`u${u}`] = { t: [{ g: u % 2 }] };
    await setup.cloak.data.insert(orgId, rows);
    const task = await setup.tasks.create(orgId, {
      name: 'hourly',
      code: CODE,
      prefetch: [{ table: 't' }],
      type: 'periodic',
      schedule: { every_seconds: PERIOD_MS / 1000 },
    });
    await setup.close();
    // Created two periods ago: due the moment a server starts.
    airRow('UPDATE tasks SET created_at = created_at - ? WHERE id = ?', 2 * PERIOD_MS, task.id);

    const server = await startServerProcess(dataDir);
    const pid = server.child.pid!;
    while (liveSandboxProcesses(pid).length === 0) await sleep(20);
    const { startedAt } = airRow<{ startedAt: number }>(
      'SELECT last_scheduled_at AS startedAt FROM tasks WHERE id = ?',
      task.id,
    );
    const sandboxes = liveSandboxProcesses(pid);
    const killed = exited(server.child);
    server.child.kill('SIGKILL');
    await killed;
    // Its sandbox processes, busy with a batch, see their host gone and end themselves.
    const alive = () => sandboxes.filter((sandbox) => existsSync(`/proc/${sandbox}`));
    while (alive().length > 0) await sleep(50);
    const count = () =>
      airRow<{ n: number }>('SELECT count(*) AS n FROM results WHERE task_id = ?', task.id).n;
    expect(startedAt).toBeGreaterThan(0);
    expect(count()).toBe(0);

    // Restarted (in this process, its scheduler driven by hand): the cut-off period is not run
    // again, and the next one runs when due and publishes one result.
    const restarted = await startPlatform(
      buildConfig({
        dataDir,
        web: { port: 0 },
        cloak: { port: 0 },
        scheduler: { tickMs: PERIOD_MS },
      }),
    );
    try {
      expect(await restarted.scheduler.tick(startedAt + PERIOD_MS - 1000)).not.toContain(task.id);
      expect(await restarted.scheduler.tick(startedAt + PERIOD_MS)).toContain(task.id);
      const [run] = await restarted.tasks.runs.list(orgId, task.id);
      while ((await restarted.tasks.runs.get(orgId, task.id, run!.id))?.state === 'running') {
        await sleep(100);
      }
      expect((await restarted.tasks.runs.get(orgId, task.id, run!.id))?.state).toBe('completed');
      expect(count()).toBe(1);
    } finally {
      await restarted.stop();
    }
  }, 240_000);
});
