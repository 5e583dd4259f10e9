// Scenario: the results API with access logs on while batch tasks keep the machine busy, vs a bare HTTPS server beside the same batch tasks.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { RunningPlatform } from '../../src/platform/index.ts';
import type { BenchSize, Scenario } from '../harness.ts';
import { bareHttps, CONNECTIONS, installation, load, result } from './results-api.ts';

const ROWS_PER_USER = 10;
const CODE = 'for (const v of tables.visits) report_property("page", v.page % 20);';

function usersFor(size: BenchSize) {
  return size === 'full' ? 50_000 : 5_000;
}

/** An installation as `opencloak start` runs it (default log settings, to a file) and busy. */
async function busyInstallation(dir: string, size: BenchSize) {
  const log = pino.destination({ dest: path.join(dir, 'server.log'), sync: false });
  const inst = await installation(
    dir,
    // Runs back to back: the release schedule would leave the machine idle between them.
    { privacy: { releaseSchedule: false } },
    { logger: { level: 'info', access: 'all', accessSample: 1, stream: log } },
  );
  const org = (await inst.platform.air.organisations.list())[0]!;
  await inst.platform.cloak.data.createTable(org.id, {
    name: 'visits',
    columns: [{ name: 'page', type: 'integer' }],
  });
  for (let start = 0; start < usersFor(size); start += 5000) {
    const batch: Record<string, unknown> = {};
    for (let u = start; u < Math.min(usersFor(size), start + 5000); u++) {
      batch[`user-${u}`] = {
        visits: Array.from({ length: ROWS_PER_USER }, (_, i) => ({ page: u + i })),
      };
    }
    await inst.platform.cloak.data.insert(org.id, batch);
  }
  const task = await inst.platform.air.tasks.create(org.id, {
    name: 'busy',
    type: 'batch',
    code: CODE,
    prefetch: [{ table: 'visits' }],
  });
  return { ...inst, busy: keepRunning(inst.platform, org.id, String(task.id)) };
}

/** Runs the task again and again until stopped; counts the runs that finished meanwhile. */
function keepRunning(platform: RunningPlatform, orgId: string, taskRef: string) {
  let stopped = false;
  let runs = 0;
  const loop = (async () => {
    while (!stopped) {
      await (
        await platform.tasks.startBatch(orgId, taskRef, { background: true })
      ).finished;
      runs++;
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return runs;
    },
  };
}

/** Waits until the first run is under way, so the measurement starts on a busy machine. */
const SETTLE_MS = 2000;

async function measure(size: BenchSize, target: 'figure' | 'baseline') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-'));
  const inst = await busyInstallation(dir, size);
  const bare = target === 'baseline' ? await bareHttps(inst.platform, inst.path, dir) : undefined;
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const url = bare?.url ?? `${inst.platform.webUrl}${inst.path}`;
    const measured = result(await load(url, dir, size === 'full' ? 10 : 3));
    const runs = await inst.busy.stop();
    return { ...measured, notes: { ...measured.notes, 'batch runs finished': runs } };
  } finally {
    bare?.close();
    await inst.platform.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const resultsApiBusyScenario: Scenario = {
  name: 'results-api-busy',
  description: `GET /api/task_results with ${CONNECTIONS} keep-alive client-certificate connections, access log on, while batch tasks run back to back, vs a bare HTTPS server beside the same batch tasks`,
  better: 'higher',
  targetRatio: 0.7,
  sides: {
    figure: (size) => measure(size, 'figure'),
    baseline: (size) => measure(size, 'baseline'),
  },
};
