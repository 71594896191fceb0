/**
 * Mann-Whitney U (Wilcoxon rank-sum) test, two-sided, as benchstat uses it: no assumption
 * of normality, robust to the outliers load tests produce. Exact p-values for small samples
 * without ties; the normal approximation with tie and continuity corrections otherwise.
 */

export interface MannWhitneyResult {
  u: number;
  p: number;
  method: "exact" | "normal";
}

function ranks(values: number[]): { ranks: number[]; tieTerm: number } {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  let tieTerm = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]![1]] = rank;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    i = j + 1;
  }
  return { ranks: out, tieTerm };
}

/** Number of arrangements giving each U, for n1 × n2 without ties (dynamic programming). */
function exactDistribution(n1: number, n2: number): number[] {
  // f[i][j][u]: ways for i items of sample 1 and j of sample 2 to give U = u.
  const max = n1 * n2;
  let prev: number[][] = Array.from({ length: n2 + 1 }, () => new Array<number>(max + 1).fill(0));
  for (let j = 0; j <= n2; j++) prev[j]![0] = 1;
  for (let i = 1; i <= n1; i++) {
    const cur: number[][] = Array.from({ length: n2 + 1 }, () => new Array<number>(max + 1).fill(0));
    cur[0]![0] = 1;
    for (let j = 1; j <= n2; j++) {
      for (let u = 0; u <= max; u++) {
        // The largest element is from sample 1 (it beats all j of sample 2) or from sample 2.
        cur[j]![u] = (u - j >= 0 ? prev[j]![u - j]! : 0) + cur[j - 1]![u]!;
      }
    }
    prev = cur;
  }
  return prev[n2]!;
}

function normalCdf(z: number): number {
  // Abramowitz–Stegun 7.1.26 via erf.
  const t = 1 / (1 + 0.3275911 * Math.abs(z / Math.SQRT2));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-((z / Math.SQRT2) ** 2));
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

export function mannWhitney(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: 0, p: 1, method: "exact" };
  const { ranks: r, tieTerm } = ranks([...a, ...b]);
  const r1 = r.slice(0, n1).reduce((s, v) => s + v, 0);
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u = Math.min(u1, n1 * n2 - u1);
  if (tieTerm === 0 && n1 <= 25 && n2 <= 25) {
    const dist = exactDistribution(n1, n2);
    const total = dist.reduce((s, v) => s + v, 0);
    let tail = 0;
    for (let k = 0; k <= Math.floor(u); k++) tail += dist[k]!;
    return { u, p: Math.min(1, (2 * tail) / total), method: "exact" };
  }
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sigma === 0) return { u, p: 1, method: "normal" };
  const z = (Math.abs(u1 - mu) - 0.5) / sigma;
  return { u, p: Math.min(1, 2 * (1 - normalCdf(Math.max(0, z)))), method: "normal" };
}

/** The smallest two-sided p an exact test can give for these sample sizes (all of one side below the other). */
export function smallestAchievableP(n1: number, n2: number): number {
  let combos = 1;
  for (let k = 1; k <= n1; k++) combos = (combos * (n2 + k)) / k;
  return Math.min(1, 2 / combos);
}
