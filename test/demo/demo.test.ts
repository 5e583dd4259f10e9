// The one-command demo: from nothing to 10,000 users, example tasks and a curl command that works.
import { exec } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_ANALYST, runDemo } from '../../src/demo/run-demo.ts';
import { request } from '../support/https-client.ts';
import { DEMO_TASKS } from '../../src/demo/demo-tasks.ts';

describe('demo', () => {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'opencloak-demo-'));
  const dataDir = path.join(parent, 'demo-data');
  let stop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await stop?.();
    rmSync(parent, { recursive: true, force: true });
  });

  // A guard against hanging, not a measurement: 37 s on a shared machine at load 5, over 60 s at 30.
  it(
    'loads 10,000 users over HTTPS, runs the example tasks and prints a curl command that returns results',
    { timeout: 300_000 },
    async () => {
      const lines: string[] = [];
      const demo = await runDemo({
        dataDir,
        users: 10_000,
        webPort: 0,
        cloakPort: 0,
        password: 'demo-password',
        log: (l) => lines.push(l),
      });
      stop = demo.stop;
      const output = lines.join('\n');
      for (const task of DEMO_TASKS) expect(output).toContain(`"${task.name}"`);
      expect(
        demo.cloak.data.sync!.rowCount(
          (await demo.air.organisations.findByName('Demo Org'))!.id,
          'profile',
        ),
      ).toBe(10_000);

      // Async: the demo's server runs in this process.
      const json = JSON.parse((await promisify(exec)(demo.curl, { encoding: 'utf8' })).stdout);
      expect(json).toMatchObject({ success: true, count: 1, page: 1, per_page: 10 });
      const heights = json.items[0].buckets as Array<{ name: string; value: number }>;
      expect(heights.length).toBeGreaterThan(3);
      // Rare heights are suppressed into "*", which is published when it crosses the threshold.
      for (const bucket of heights) expect(bucket.name).toMatch(/^(height: \d+|\*: \*)$/);
      const total = heights.reduce((sum, b) => sum + b.value, 0);
      // Each bucket's noise is at most 3 sd (9% of its count) plus half a rounding step: the total's
      // bound is 10% of 10,000; its typical error is a few hundred.
      expect(Math.abs(total - 10_000)).toBeLessThan(1_000);
      expect(output).toContain(demo.curl);

      // The printed site login works, and the site shows the demo's tasks with their results.
      expect(output).toContain(`log in as ${DEMO_ANALYST} with the password demo-password`);
      const ca = demo.pki.ca.certPem;
      const login = await request(`${demo.webUrl}/auth/login`, ca, {
        body: { email: DEMO_ANALYST, password: 'demo-password' },
      });
      expect(login.status).toBe(200);
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      const tasks = await request(`${demo.webUrl}/api/site/tasks`, ca, { headers: { cookie } });
      expect(tasks.json.tasks).toHaveLength(DEMO_TASKS.length);
      for (const task of tasks.json.tasks) expect(task.results).toBe(1);
    },
  );

  it('refuses to wipe the directory of a demo that still runs', async () => {
    expect(stop).toBeDefined();
    await expect(
      runDemo({
        dataDir,
        users: 10,
        webPort: 0,
        cloakPort: 0,
        password: 'demo-password',
        log: () => undefined,
      }),
    ).rejects.toThrow(`data directory ${dataDir} is in use by process ${process.pid}`);
    expect(existsSync(path.join(dataDir, 'cloak.db'))).toBe(true);
  });

  it('refuses to wipe a directory it did not make', async () => {
    await stop?.();
    stop = undefined;
    await expect(
      runDemo({
        dataDir: parent,
        users: 10,
        webPort: 0,
        cloakPort: 0,
        password: 'demo-password',
        log: () => undefined,
      }),
    ).rejects.toThrow(/not made by the demo/);
  });
});
