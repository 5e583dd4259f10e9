// `npm run bench [scenario ...] [-- --size small|full] [--load both|quiet|loaded]`: runs scenarios and prints figure, baseline, ratio, memory.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultLoadProcesses, startCpuLoad } from './cpu-load.ts';
import { compare, formatTable, runSide, type BenchSize, type Row } from './harness.ts';
import { SCENARIOS } from './scenarios/index.ts';

const args = process.argv.slice(2);
const valueOf = (flag: string) => {
  const index = args.indexOf(flag);
  return index >= 0 ? args[index + 1] : undefined;
};
const size = (valueOf('--size') ?? 'full') as BenchSize;
if (size !== 'small' && size !== 'full') {
  console.error(`--size must be small or full, not "${size}".`);
  process.exit(2);
}
const runsOption = valueOf('--runs');
/** Quiet, beside a parallel CPU load (bench/cpu-load.ts), or both, each scenario as two rows. */
const load = valueOf('--load') ?? 'both';
if (load !== 'both' && load !== 'quiet' && load !== 'loaded') {
  console.error(`--load must be both, quiet or loaded, not "${load}".`);
  process.exit(2);
}
const loadProcesses = defaultLoadProcesses();
const flagValues = new Set(
  ['--size', '--runs', '--load'].map((f) => args.indexOf(f) + 1).filter((i) => i > 0),
);
const names = args.filter((a, i) => !a.startsWith('--') && !flagValues.has(i));
const chosen =
  names.length === 0 || names.includes('all')
    ? SCENARIOS
    : SCENARIOS.filter((s) => names.includes(s.name));
const unknown = names.filter((n) => n !== 'all' && !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) {
  console.error(
    `Unknown scenario(s): ${unknown.join(', ')}. Known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}

/** Runs one side, beside the CPU load when `loaded`. */
async function measure(
  name: string,
  side: 'figure' | 'baseline',
  loaded: boolean,
): Promise<ReturnType<typeof runSide>> {
  if (!loaded) return runSide(name, side, size);
  const cpuLoad = startCpuLoad(loadProcesses);
  try {
    return runSide(name, side, size);
  } finally {
    await cpuLoad.stop();
  }
}

const rows: Row[] = [];
for (const scenario of chosen) {
  // A deterministic scenario gives the same answer under load: measured quiet only.
  const conditions =
    load === 'both' ? (scenario.deterministic ? [false] : [false, true]) : [load === 'loaded'];
  for (const loaded of conditions) {
    const label = loaded ? `${scenario.name} (loaded)` : scenario.name;
    console.error(
      `running ${label} (${size}${loaded ? `, beside ${loadProcesses} looping processes` : ''}): ${scenario.description}`,
    );
    // Baseline and figure alternate twice and the better of each is kept: a shared, noisy
    // machine slows single runs at random, and the best run is the least disturbed one. A
    // deterministic scenario measures the same thing every run: a second one would only repeat it.
    const runs =
      runsOption !== undefined
        ? Math.max(1, Number(runsOption) || 1)
        : size === 'full' && !scenario.deterministic
          ? 2
          : 1;
    let figure = await measure(scenario.name, 'figure', loaded);
    let baseline = await measure(scenario.name, 'baseline', loaded);
    for (let i = 1; i < runs; i++) {
      const b = await measure(scenario.name, 'baseline', loaded);
      const f = await measure(scenario.name, 'figure', loaded);
      const better = (x: number, y: number) => (scenario.better === 'higher' ? x > y : x < y);
      if (better(f.value, figure.value)) figure = f;
      if (better(b.value, baseline.value)) baseline = b;
    }
    rows.push({ ...compare(scenario, figure, baseline), scenario: label, loaded });
  }
}

const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
console.log(`\nMachine: ${machine}; size: ${size}\n`);
if (rows.some((row) => row.loaded)) {
  console.log(
    `"(loaded)" rows ran beside ${loadProcesses} looping processes (bench/cpu-load.ts); the README quotes the quiet rows unless it says "loaded".\n`,
  );
}
console.log(formatTable(rows));
const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(
  path.join(outDir, `latest-${size}.json`),
  JSON.stringify({ machine, size, date: new Date().toISOString(), loadProcesses, rows }, null, 2),
);
