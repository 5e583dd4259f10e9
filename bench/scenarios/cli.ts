// Scenario: wall time of `opencloak --help` and of each command of the README's first task, vs starting Node itself.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSize, Scenario } from '../harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/opencloak.mjs');
const example = (file: string) => path.join(ROOT, 'examples', file);

/** The README's "A first task, step by step", in order, plus --help (the platform runs aside). */
const FIRST_TASK: ReadonlyArray<[string, string[]]> = [
  ['--help', ['--help']],
  ['org create', ['org', 'create', 'Acme']],
  [
    'key create',
    [
      ...['key', 'create', '--org', 'Acme', '--type', 'web_api', '--description', 'my reports'],
      ...['--password', 'my_password', '--out', 'keys', '--name', 'my-key'],
    ],
  ],
  [
    'table create',
    ['table', 'create', '--org', 'Acme', 'purchases', 'amount:double', 'category:varchar(32)'],
  ],
  ['upload', ['upload', '--org', 'Acme', example('purchases.json')]],
  [
    'task create',
    [
      ...['task', 'create', '--org', 'Acme', '--name', 'big purchases'],
      ...['--prefetch', '[{"table": "purchases"}]', '--code-file', example('big-purchases.js')],
    ],
  ],
  ['task run', ['task', 'run', '1', '--org', 'Acme']],
];

function rounds(size: BenchSize): number {
  return size === 'full' ? 5 : 2;
}

/** GNU time, when installed, adds each command's CPU time (its own and its children's). */
const GNU_TIME = '/usr/bin/time';

interface Timing {
  wallMs: number;
  /** User + system CPU, or NaN without GNU time. */
  cpuMs: number;
}

/**
 * One process, from spawn to exit. The CPU time is what a quiet machine's wall time would be
 * near: on a shared machine the wall time mostly measures the wait for a core.
 */
function timed(args: string[], cwd: string): Timing {
  const withCpu = existsSync(GNU_TIME);
  const [command, argv] = withCpu
    ? [GNU_TIME, ['-f', 'cpu %U %S', process.execPath, ...args]]
    : [process.execPath, args];
  const start = process.hrtime.bigint();
  const run = spawnSync(command, argv, { cwd, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`${args.join(' ')} failed: ${run.stderr}`);
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(run.stderr);
  const cpuMs = cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN;
  return { wallMs, cpuMs };
}

/** The whole first task on a fresh installation per round; each command's fastest round. */
function firstTaskTimes(size: BenchSize): Record<string, Timing> {
  // A build now, so that no round measures it (bin/opencloak.mjs builds when src/ changed).
  timed([path.join(ROOT, 'scripts/build.mjs')], ROOT);
  const best: Record<string, Timing> = {};
  for (let round = 0; round < rounds(size); round++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-bench-cli-'));
    const cli = (args: string[]) =>
      timed([BIN, '--data-dir', path.join(dir, 'data'), ...args], dir);
    try {
      // The README's first task runs beside `npm start`, which has created the installation (its
      // CA and noise secret): done here first, untimed.
      cli(['org', 'create', 'Setup']);
      for (const [name, args] of FIRST_TASK) {
        const t = cli(args);
        const before = best[name];
        best[name] = {
          wallMs: Math.min(before?.wallMs ?? Infinity, t.wallMs),
          cpuMs: Math.min(before?.cpuMs ?? Infinity, t.cpuMs),
        };
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return best;
}

export const cliScenario: Scenario = {
  name: 'cli',
  description:
    "opencloak --help and each command of the README's first task (fastest of 5 fresh runs; the figure is the slowest command's wall time) vs node -e 0",
  better: 'lower',
  targetValue: 1000,
  sides: {
    figure: async (size) => {
      const times = firstTaskTimes(size);
      const notes = Object.fromEntries(
        Object.entries(times).map(([name, t]) => [
          name,
          `${Math.round(t.wallMs)} wall, ${Math.round(t.cpuMs)} cpu`,
        ]),
      );
      return { value: Math.max(...Object.values(times).map((t) => t.wallMs)), unit: 'ms', notes };
    },
    baseline: async (size) => {
      let best: Timing = { wallMs: Infinity, cpuMs: Infinity };
      for (let i = 0; i < rounds(size) * FIRST_TASK.length; i++) {
        const t = timed(['-e', '0'], ROOT);
        best = { wallMs: Math.min(best.wallMs, t.wallMs), cpuMs: Math.min(best.cpuMs, t.cpuMs) };
      }
      return { value: best.wallMs, unit: 'ms', notes: { cpu: Math.round(best.cpuMs) } };
    },
  },
};
