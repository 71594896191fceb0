import { bootstrapMedianInterval, bootstrapRelativeChange, type Interval } from "./bootstrap.js";
import { mannWhitney, smallestAchievableP } from "./mann-whitney.js";
import { normal, seededRandom } from "./random.js";
import { cv, median } from "./summary.js";

export type Verdict = "better" | "worse" | "no significant difference";

export interface MetricComparison {
  metric: string;
  lowerIsBetter: boolean;
  baseline: { n: number; median: number; ci: Interval };
  candidate: { n: number; median: number; ci: Interval };
  /** Relative change of the median, candidate vs baseline (0.1 = 10% higher). */
  change: number;
  changeCi: Interval;
  p: number;
  verdict: Verdict;
}

/** benchstat's rule: a change counts only when the rank test says it is unlikely to be noise. */
export function compareMetric(
  metric: string,
  baseline: readonly number[],
  candidate: readonly number[],
  opts: { lowerIsBetter: boolean; alpha?: number },
): MetricComparison {
  const alpha = opts.alpha ?? 0.05;
  const mA = median(baseline);
  const mB = median(candidate);
  const change = mA === 0 ? 0 : (mB - mA) / Math.abs(mA);
  const { p } = mannWhitney(baseline, candidate);
  let verdict: Verdict = "no significant difference";
  if (p < alpha && mB !== mA) verdict = mB < mA === opts.lowerIsBetter ? "better" : "worse";
  return {
    metric,
    lowerIsBetter: opts.lowerIsBetter,
    baseline: { n: baseline.length, median: mA, ci: bootstrapMedianInterval(baseline) },
    candidate: { n: candidate.length, median: mB, ci: bootstrapMedianInterval(candidate) },
    change,
    changeCi: bootstrapRelativeChange(baseline, candidate),
    p,
    verdict,
  };
}

export interface Sensitivity {
  runsPerSide: [number, number];
  smallestP: number;
  /** Can these run counts ever reach significance at alpha? (3 against 3 cannot: p ≥ 0.1.) */
  canReachAlpha: boolean;
  /** Smallest relative shift detected with ≥ 80% power given the observed run-to-run noise; undefined if none ≤ 100%. */
  detectableShift?: number;
  noiseCv: number;
}

/**
 * How large a shift this many runs can detect: simulated with the observed run-to-run
 * spread, so a report can say "a 10% change would have been seen, a 2% one not".
 */
export function sensitivity(
  n1: number,
  n2: number,
  noiseCv: number,
  opts: { alpha?: number; power?: number; trials?: number } = {},
): Sensitivity {
  const alpha = opts.alpha ?? 0.05;
  const power = opts.power ?? 0.8;
  const trials = opts.trials ?? 300;
  const smallestP = smallestAchievableP(n1, n2);
  const base: Sensitivity = { runsPerSide: [n1, n2], smallestP, canReachAlpha: smallestP < alpha, noiseCv };
  if (!base.canReachAlpha) return base;
  const random = seededRandom(42);
  const sample = (n: number, center: number) =>
    Array.from({ length: n }, () => center * (1 + noiseCv * normal(random)));
  for (const shift of [0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1]) {
    let hits = 0;
    for (let t = 0; t < trials; t++)
      if (mannWhitney(sample(n1, 100), sample(n2, 100 * (1 + shift))).p < alpha) hits++;
    if (hits / trials >= power) return { ...base, detectableShift: shift };
  }
  return base;
}

export { cv };
