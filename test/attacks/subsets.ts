// Random victim subsets and least squares: what reconstruction attacks (Dinur-Nissim) share.

/** Whether victim g is in subset j: a hash both the task and the attacker compute. */
export const IN_SUBSET = `(g, j) => {
  let h = Math.imul(g + 1, 0x9e3779b1) ^ Math.imul(j + 1, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) & 1) === 0;
}`;
export const inSubset = new Function(`return ${IN_SUBSET}`)() as (g: number, j: number) => boolean;

/** Row j of the system: which of `victims` victims subset j holds. */
export function subsetRows(queries: number, victims: number): boolean[][] {
  return Array.from({ length: queries }, (_, j) =>
    Array.from({ length: victims }, (_, g) => inSubset(g, j)),
  );
}

/** Least squares by the normal equations and Gaussian elimination with partial pivoting. */
export function leastSquares(rows: boolean[][], y: number[], n: number): number[] {
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
