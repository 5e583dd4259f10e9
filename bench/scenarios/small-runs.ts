// Scenario: back-to-back runs of a small task with idle sandbox processes kept between runs, vs a new process per run.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCloak } from '../../src/cloak/index.ts';
import { buildConfig } from '../../src/config/index.ts';
import type { BenchSize, Scenario } from '../harness.ts';

const ORG = 'bench-org';
const USERS = 50;
const TASK = {
  code: 'for (const v of tables.visits) report_property("page", v.page % 5);',
  prefetch: [{ table: 'visits' }],
};

function runsFor(size: BenchSize) {
  return size === 'full' ? 200 : 40;
}

/** Runs per second of one organisation asking small questions one after another. */
async function measure(size: BenchSize, idleSandboxSeconds: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-small-'));
  // The work, not the release point each answer waits for; budget on, as by default.
  const cloak = await openCloak(
    buildConfig({
      dataDir: dir,
      cloak: { idleSandboxSeconds },
      privacy: { releaseSchedule: false },
    }),
  );
  try {
    await cloak.data.createTable(ORG, {
      name: 'visits',
      columns: [{ name: 'page', type: 'integer' }],
    });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`user-${u}`] = { visits: [{ page: u }, { page: u + 1 }] };
    await cloak.data.insert(ORG, rows);
    const runs = runsFor(size);
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) await cloak.runner.run(ORG, TASK);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      value: runs / seconds,
      unit: 'runs/s',
      notes: {
        'ms per run': Number(((seconds * 1000) / runs).toFixed(1)),
        'server CPU ms per run': Number(((cpu.user + cpu.system) / 1000 / runs).toFixed(1)),
      },
    };
  } finally {
    await cloak.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const smallRunsScenario: Scenario = {
  name: 'small-runs',
  description: `runs/s of a ${USERS}-user task run again and again by one organisation (release schedule off): idle sandbox processes kept between runs (cloak.idleSandboxSeconds 10, the default) vs a new process per run (0)`,
  better: 'higher',
  sides: {
    figure: (size) => measure(size, 10),
    baseline: (size) => measure(size, 0),
  },
};
