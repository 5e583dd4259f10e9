// The benchmark harness: runs each side of a scenario in its own process and prints figure vs baseline.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** One measured side of a scenario, printed by bench/side.ts as a JSON line. */
export interface SideResult {
  value: number;
  unit: string;
  /** Peak resident memory of the side's process, in MiB. */
  peakMiB: number;
  notes?: Record<string, number | string>;
}

export interface Scenario {
  name: string;
  description: string;
  /** How the ratio is read: 'higher' means figure/baseline should be high (throughput). */
  better: 'higher' | 'lower';
  /** The target the issue sets for figure/baseline, e.g. 0.5 for "at least half the baseline". */
  targetRatio?: number;
  /** An absolute target for the figure itself, e.g. 1,000,000 tuples/s. */
  targetValue?: number;
  /** The same answer every run (a utility score, not a speed): one run per side is enough. */
  deterministic?: boolean;
  sides: {
    figure: (size: BenchSize) => Promise<Omit<SideResult, 'peakMiB'>>;
    baseline: (size: BenchSize) => Promise<Omit<SideResult, 'peakMiB'>>;
  };
}

export type BenchSize = 'small' | 'full';

const SIDE_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'side.ts');

/** A fresh process per side keeps one side's heap, JIT state and peak memory out of the other's. */
export function runSide(
  scenario: string,
  side: 'figure' | 'baseline',
  size: BenchSize,
): SideResult {
  const child = spawnSync(
    process.execPath,
    ['--no-node-snapshot', '--expose-gc', '--import', 'tsx', SIDE_SCRIPT, scenario, side, size],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (child.status !== 0)
    throw new Error(`${scenario}/${side} failed with exit code ${child.status}`);
  const line = child.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as SideResult;
}

export interface Row {
  scenario: string;
  figure: SideResult;
  baseline: SideResult;
  ratio: number;
  target?: string;
  met?: boolean;
  /** Measured beside the parallel CPU load (bench/cpu-load.ts). */
  loaded?: boolean;
}

export function compare(scenario: Scenario, figure: SideResult, baseline: SideResult): Row {
  const ratio = figure.value / baseline.value;
  const meets = (actual: number, target: number) =>
    scenario.better === 'higher' ? actual >= target : actual <= target;
  const targets: string[] = [];
  let met = true;
  if (scenario.targetRatio !== undefined) {
    targets.push(
      `ratio ${scenario.better === 'higher' ? '>=' : '<='} ${scenario.targetRatio.toFixed(2)}`,
    );
    met &&= meets(ratio, scenario.targetRatio);
  }
  if (scenario.targetValue !== undefined) {
    targets.push(
      `${scenario.better === 'higher' ? '>=' : '<='} ${fmt(scenario.targetValue)} ${figure.unit}`,
    );
    met &&= meets(figure.value, scenario.targetValue);
  }
  return {
    scenario: scenario.name,
    figure,
    baseline,
    ratio,
    ...(targets.length > 0 ? { target: targets.join(', '), met } : {}),
  };
}

export function formatTable(rows: Row[]): string {
  const header = [
    'scenario',
    'figure',
    'baseline',
    'ratio',
    'target',
    'peak MiB (fig/base)',
    'notes (figure / baseline)',
  ];
  const body = rows.map((r) => [
    r.scenario,
    `${fmt(r.figure.value)} ${r.figure.unit}`,
    `${fmt(r.baseline.value)} ${r.baseline.unit}`,
    r.ratio.toFixed(2),
    r.target === undefined ? '-' : `${r.target} ${r.met ? 'met' : 'MISSED'}`,
    `${Math.round(r.figure.peakMiB)} / ${Math.round(r.baseline.peakMiB)}`,
    `${notes(r.figure)} / ${notes(r.baseline)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}

function notes(side: SideResult): string {
  return (
    Object.entries(side.notes ?? {})
      .map(([key, value]) => `${key} ${value}`)
      .join(', ') || '-'
  );
}

function fmt(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toPrecision(3);
}
