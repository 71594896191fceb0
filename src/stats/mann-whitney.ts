/**
 * Mann-Whitney U (Wilcoxon rank-sum) test, two-sided, as benchstat uses it: no assumption
 * of normality, robust to the outliers load tests produce.
 *
 * Small samples (each side ≤ 25 runs, which is every comparison cutover runs) get the exact
 * permutation distribution of the rank sum *given the observed ties*: HDR-quantised
 * percentiles tie often, and the normal approximation is far off for a handful of runs
 * (3 vs 3 with ties gives p = 0.047 where the exact p is 0.100). Larger samples use the normal
 * approximation with tie and continuity corrections.
 */

export interface MannWhitneyResult {
  u: number;
  p: number;
  method: "exact" | "normal";
}

/** Largest side for which the exact distribution is computed (cost grows as n³). */
const EXACT_MAX_PER_SIDE = 25;

/** Midranks (1-based) of the pooled values, and the tie correction term Σ(t³ − t). */
function midranks(values: readonly number[]): { ranks: number[]; tieTerm: number } {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length).fill(0);
  let tieTerm = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]?.v === order[i]?.v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]?.i ?? 0] = rank;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    i = j + 1;
  }
  return { ranks, tieTerm };
}

/**
 * Exact two-sided p of a rank sum: the share of all C(N, n1) ways to pick n1 of the pooled
 * midranks whose sum lies at least as far from its mean as the observed one. Midranks are
 * doubled so every sum is an integer; counted by dynamic programming over the pooled values.
 */
function exactRankSumP(doubledRanks: readonly number[], n1: number, observed: number): number {
  const maxSum = doubledRanks.reduce((s, r) => s + r, 0);
  // ways[k * (maxSum + 1) + s]: subsets of size k of the values seen so far with doubled-rank sum s.
  const width = maxSum + 1;
  const ways = new Float64Array((n1 + 1) * width);
  ways[0] = 1;
  let seen = 0;
  for (const r of doubledRanks) {
    seen++;
    for (let k = Math.min(seen, n1); k >= 1; k--) {
      const to = k * width;
      const from = (k - 1) * width;
      for (let s = maxSum - r; s >= 0; s--) {
        const w = ways[from + s] ?? 0;
        if (w !== 0) ways[to + s + r] = (ways[to + s + r] ?? 0) + w;
      }
    }
  }
  const mean = (n1 * maxSum) / doubledRanks.length;
  const distance = Math.abs(observed - mean);
  let total = 0;
  let extreme = 0;
  for (let s = 0; s <= maxSum; s++) {
    const w = ways[n1 * width + s] ?? 0;
    total += w;
    // Sums are integers and the mean a multiple of 1/N: compare with a margin far below 1/N.
    if (Math.abs(s - mean) >= distance - 1e-9) extreme += w;
  }
  return Math.min(1, extreme / total);
}

function normalCdf(z: number): number {
  // Abramowitz–Stegun 7.1.26 via erf (absolute error < 1.5e-7).
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
  const { ranks, tieTerm } = midranks([...a, ...b]);
  const r1 = ranks.slice(0, n1).reduce((s, v) => s + v, 0);
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u = Math.min(u1, n1 * n2 - u1);
  if (n1 <= EXACT_MAX_PER_SIDE && n2 <= EXACT_MAX_PER_SIDE) {
    const doubled = ranks.map((r) => Math.round(r * 2));
    return { u, p: exactRankSumP(doubled, n1, Math.round(r1 * 2)), method: "exact" };
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
