// Simulates the participation budget over the afternoon's real bucket memberships, to compare noise curves and budgets in seconds.
//
// node --no-node-snapshot --import tsx bench/afternoon/pricing-simulation.ts [noiseSd sqrtNoise relativeNoise rho]
//
// Without arguments it compares the curves docs/anonymization.md discusses ("Why sd 10,
// 1.4 sqrt(n), 3% and 0.02"). It is a model, not the product: buckets are priced once at the
// users not yet exhausted (the cloak iterates to the kept count), counts are not rounded, and the
// notices are left out. Its figures came within a few points of `npm run bench --
// analyst-afternoon`, which is the measurement; this is for choosing what to measure.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { countNoiseSd, DEFAULT_ANONYMIZER_SETTINGS } from '../../src/anonymizer/index.ts';
import { openCloak } from '../../src/cloak/index.ts';
import { pinNoiseSecret } from '../../src/cloak/noise-secret-test-support.ts';
import { buildConfig } from '../../src/config/index.ts';
import {
  AFTERNOON_TABLES,
  afternoonBatches,
  BREAKDOWN_TABLE,
  breakdownBatches,
  newVisits,
} from './data.ts';
import { BREAKDOWN, QUESTIONS } from './questions.ts';
import { trueCounts } from './truth.ts';

interface Asked {
  name: string;
  /** Asked before over the same data: a rerun, free. */
  rerun: boolean;
  /** Members of each bucket, by bucket key. */
  buckets: Map<string, string[]>;
}

interface Curve {
  noiseSd: number;
  sqrtNoise: number;
  relativeNoise: number;
  rho: number;
}

const USERS = 20_000;
const BREAKDOWN_USERS = 100_000;

function bucketsOf(memberships: Map<string, string[]>): Map<string, string[]> {
  const buckets = new Map<string, string[]>();
  for (const [user, keys] of memberships) {
    for (const key of keys) {
      const members = buckets.get(key);
      if (members) members.push(user);
      else buckets.set(key, [user]);
    }
  }
  return buckets;
}

/** Every question's buckets, asked in order over the benchmark's data (as the benchmark does). */
async function askAll(): Promise<{ afternoon: Asked[]; breakdown: Asked }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencloak-pricing-'));
  pinNoiseSecret(dir, 15);
  const cloak = await openCloak(
    buildConfig({ dataDir: dir, privacy: { participationBudget: false, releaseSchedule: false } }),
  );
  try {
    for (const table of AFTERNOON_TABLES) await cloak.data.createTable('o', table);
    for (const batch of afternoonBatches(USERS)) await cloak.data.insert('o', batch);
    const afternoon: Asked[] = [];
    const asked = new Set<string>();
    let dataVersion = 0;
    for (const q of QUESTIONS) {
      if (q.newVisitsDay !== undefined) {
        await cloak.data.insert('o', newVisits(USERS, q.newVisitsDay));
        dataVersion++;
      }
      const key = `${dataVersion}\u0000${JSON.stringify(q.prefetch)}\u0000${q.code}`;
      const truth = await trueCounts(cloak, 'o', q.prefetch, q.code, true);
      afternoon.push({
        name: q.name,
        rerun: asked.has(key),
        buckets: bucketsOf(truth.memberships!),
      });
      asked.add(key);
    }
    await cloak.data.createTable('f', BREAKDOWN_TABLE);
    for (const batch of breakdownBatches(BREAKDOWN_USERS, 50)) await cloak.data.insert('f', batch);
    const truth = await trueCounts(cloak, 'f', BREAKDOWN.prefetch, BREAKDOWN.code, true);
    return {
      afternoon,
      breakdown: { name: BREAKDOWN.name, rerun: false, buckets: bucketsOf(truth.memberships!) },
    };
  } finally {
    cloak.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A seeded generator (mulberry32) and Box-Muller: the simulation's draws, the same every run. Not
 * the product's noise (src/anonymizer/noise.ts, keyed HMAC); a model only needs repeatable draws.
 */
function seeded(seed: number) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

function shuffled<T>(items: T[], uniform: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

interface Scored {
  within: number;
  buckets: number;
  /** Signed relative errors of published buckets of >= 1,000 true users. */
  large: number[];
  /** Absolute relative errors of published buckets. */
  errors: number[];
}

/** One organisation's sequence of questions under a curve and budget; who ran out carries over. */
function simulate(questions: Asked[], curve: Curve, seed: number): Scored[] {
  const settings = { ...DEFAULT_ANONYMIZER_SETTINGS, ...curve };
  const sd = (n: number) => countNoiseSd(n, settings);
  const { uniform, normal } = seeded(seed);
  const spent = new Map<string, number>();
  const exhausted = new Set<string>();
  return questions.map((q) => {
    const scored: Scored = { within: 0, buckets: 0, large: [], errors: [] };
    // The cloak settles fresh buckets in an order the analyst cannot choose: here, a seeded shuffle.
    const order = shuffled([...q.buckets.keys()], uniform);
    for (const key of order) {
      const members = q.buckets.get(key)!;
      const truth = members.length;
      let kept = members;
      if (!q.rerun && truth > settings.absoluteFloor) {
        const cost = 1 / (2 * sd(members.filter((u) => !exhausted.has(u)).length) ** 2);
        kept = members.filter((u) => {
          if (exhausted.has(u)) return false;
          const after = (spent.get(u) ?? 0) + cost;
          if (after > curve.rho) exhausted.add(u);
          else spent.set(u, after);
          return after <= curve.rho;
        });
      }
      scored.buckets++;
      const n = kept.length;
      const noisy = n + sd(n) * normal();
      const published =
        n > settings.absoluteFloor &&
        noisy >= settings.absoluteFloor + 1 + settings.lowCountMargin * sd(n);
      if (!published) continue;
      const error = (noisy - truth) / truth;
      scored.errors.push(Math.abs(error));
      if (Math.abs(error) <= 0.2) scored.within++;
      if (truth >= 1000) scored.large.push(error);
    }
    return scored;
  });
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function report(curve: Curve, afternoon: Scored[], breakdown: Scored): string {
  const within = afternoon.reduce((a, s) => a + s.within, 0);
  const buckets = afternoon.reduce((a, s) => a + s.buckets, 0);
  const late = Math.min(...afternoon.slice(10).map((s) => s.within / s.buckets));
  const large = mean(afternoon.flatMap((s) => s.large));
  const shown = breakdown.errors.length / breakdown.buckets;
  return (
    `sd max(${curve.noiseSd}, ${curve.sqrtNoise} sqrt(n), ${curve.relativeNoise} n), rho ${curve.rho}: ` +
    `within 20% ${pct(within / buckets)}, lowest after q10 ${pct(late)}, signed >= 1,000 ${pct(large)}; ` +
    `breakdown ${pct(shown)} published, error ${pct(mean(breakdown.errors))}`
  );
}

const CURVES: Curve[] = [
  { noiseSd: 10, sqrtNoise: 0, relativeNoise: 0.03, rho: 0.05 },
  { noiseSd: 10, sqrtNoise: 0, relativeNoise: 0.03, rho: 0.03 },
  { noiseSd: 10, sqrtNoise: 1.2, relativeNoise: 0.03, rho: 0.025 },
  { noiseSd: 10, sqrtNoise: 1.4, relativeNoise: 0.03, rho: 0.02 },
];

const args = process.argv.slice(2).map(Number);
const curves =
  args.length === 4
    ? [{ noiseSd: args[0]!, sqrtNoise: args[1]!, relativeNoise: args[2]!, rho: args[3]! }]
    : CURVES;
const { afternoon, breakdown } = await askAll();
for (const curve of curves) {
  console.log(report(curve, simulate(afternoon, curve, 1), simulate([breakdown], curve, 2)[0]!));
}
