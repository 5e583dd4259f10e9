// Many random-subset counts reconstruct the victims' bits by least squares (Dinur-Nissim).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnonymizedResult } from '../../src/shared/index.ts';
import { countTable, openLab, type Lab } from './lab.ts';
import { describeScore, guessesFromEvidence, KAPPA_BAR, scoreAttack } from './scoring.ts';

/** Subset queries per victim: the system is over-determined four times. */
const QUERIES_PER_VICTIM = 4;
/** Whether victim g is in subset j: a hash both the task and the attacker compute. */
const IN_SUBSET = `(g, j) => {
  let h = Math.imul(g + 1, 0x9e3779b1) ^ Math.imul(j + 1, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) & 1) === 0;
}`;
const inSubset = new Function(`return ${IN_SUBSET}`)() as (g: number, j: number) => boolean;

const task = (queries: number) => `const r = tables.t[0]; const inSubset = ${IN_SUBSET};
if (r.victim === 1 && r.s === 1) {
  for (let j = 0; j < ${queries}; j++) if (inSubset(r.grp, j)) report_property("r", j);
}`;

/** Least squares by the normal equations and Gaussian elimination with partial pivoting. */
function leastSquares(rows: boolean[][], y: number[], n: number): number[] {
  const m: number[][] = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  rows.forEach((row, q) => {
    for (let a = 0; a < n; a++) {
      if (!row[a]) continue;
      for (let b = 0; b < n; b++) if (row[b]) m[a]![b]! += 1;
      m[a]![n]! += y[q]!;
    }
  });
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

async function attack(run: (code: string) => Promise<AnonymizedResult>, lab: Lab) {
  const queries = QUERIES_PER_VICTIM * lab.victims;
  const counts = countTable(await run(task(queries))).get('r') ?? new Map<string, number>();
  const rows = Array.from({ length: queries }, (_, j) =>
    Array.from({ length: lab.victims }, (_, g) => inSubset(g, j)),
  );
  const y = rows.map((_, j) => counts.get(String(j)) ?? 0);
  const bits = leastSquares(rows, y, lab.victims);
  return scoreAttack(guessesFromEvidence(bits.map((b) => b - 0.5)), lab.truth);
}

describe('reconstruction attack', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await openLab({ companions: 0 });
  });
  afterAll(() => lab.stop());

  // Every subset is a distinct user set with its own noise of sd about 1.7, far below the
  // sqrt(n) that Dinur and Nissim show reconstruction needs (kappa 1.0 without the budget). The
  // participation budget caps each victim at about one fresh small bucket, so the system of
  // equations has about one equation per victim (docs/anonymization.md).
  it('fails: the participation budget leaves too few equations per victim', async () => {
    const score = await attack(lab.run, lab);
    console.log(describeScore('reconstruction', score));
    expect(score.kappa).toBeLessThan(KAPPA_BAR);
  });

  it('succeeds against the noise alone, so the budget is what stops it', async () => {
    const score = await attack(lab.runUnbudgeted, lab);
    console.log(describeScore('reconstruction, no participation budget', score));
    expect(score.kappa).toBeGreaterThan(KAPPA_BAR);
  });

  it('succeeds when counts are exact, so the attack is real', async () => {
    const score = await attack(lab.runWeakened, lab);
    console.log(describeScore('reconstruction, exact counts', score));
    expect(score.kappa).toBeGreaterThan(0.9);
  });
});
