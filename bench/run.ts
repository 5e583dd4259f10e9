// `npm run bench [scenario ...] [-- --size small|full]`: runs scenarios and prints figure, baseline, ratio, memory.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
const flagValues = new Set(
  ['--size', '--runs'].map((f) => args.indexOf(f) + 1).filter((i) => i > 0),
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

const rows: Row[] = [];
for (const scenario of chosen) {
  console.error(`running ${scenario.name} (${size}): ${scenario.description}`);
  // Baseline and figure alternate twice and the better of each is kept: a shared, noisy machine
  // slows single runs at random, and the best run is the least disturbed one.
  // A deterministic scenario measures the same thing every run: a second one would only repeat it.
  const runs =
    runsOption !== undefined
      ? Math.max(1, Number(runsOption) || 1)
      : size === 'full' && !scenario.deterministic
        ? 2
        : 1;
  let figure = runSide(scenario.name, 'figure', size);
  let baseline = runSide(scenario.name, 'baseline', size);
  for (let i = 1; i < runs; i++) {
    const b = runSide(scenario.name, 'baseline', size);
    const f = runSide(scenario.name, 'figure', size);
    const better = (x: number, y: number) => (scenario.better === 'higher' ? x > y : x < y);
    if (better(f.value, figure.value)) figure = f;
    if (better(b.value, baseline.value)) baseline = b;
  }
  rows.push(compare(scenario, figure, baseline));
}

const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
console.log(`\nMachine: ${machine}; size: ${size}\n`);
console.log(formatTable(rows));
const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(
  path.join(outDir, `latest-${size}.json`),
  JSON.stringify({ machine, size, date: new Date().toISOString(), rows }, null, 2),
);
