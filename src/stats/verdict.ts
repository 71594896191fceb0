import { bootstrapChange, bootstrapMedianInterval, type Interval } from "./bootstrap.js";
import { type Bound, type MetricUnit, reaches } from "./effect.js";
import { mannWhitney, smallestAchievableP } from "./mann-whitney.js";
import { normal, seededRandom } from "./random.js";
import { cv, median } from "./summary.js";

/**
 * "no significant difference": the rank test cannot tell the sides apart (p ≥ alpha).
 * "no meaningful difference": it can, but the change is smaller than the metric's minimum
 * effect — a 0.5% throughput dip in an open-model run is the schedule, not a regression.
 */
export type Verdict = "better" | "worse" | "no significant difference" | "no meaningful difference";

export interface MetricComparison {
  metric: string;
  unit: MetricUnit;
  lowerIsBetter: boolean;
  baseline: { n: number; median: number; ci: Interval };
  candidate: { n: number; median: number; ci: Interval };
  /** Relative change of the median, candidate vs baseline (0.1 = 10% higher); null when the baseline median is 0. */
  change: number | null;
  changeCi: Interval | null;
  /** Candidate median − baseline median, in the metric's unit (ratios as fractions). */
  absoluteChange: number;
  absoluteChangeCi: Interval;
  p: number;
  method: "exact" | "normal";
  /** The smallest change that earns a verdict. */
  minEffect: Bound;
  verdict: Verdict;
  /** Runs left out of this metric, and why (a run that sent nothing has no loss rate). */
  excluded: string[];
}

/** benchstat's rule plus a minimum effect: a change counts only when it is unlikely to be noise and large enough to matter. */
export function compareMetric(
  metric: string,
  baseline: readonly number[],
  candidate: readonly number[],
  opts: { lowerIsBetter: boolean; unit: MetricUnit; minEffect: Bound; alpha?: number; excluded?: string[] },
): MetricComparison {
  const alpha = opts.alpha ?? 0.05;
  const mA = median(baseline);
  const mB = median(candidate);
  const change = mA === 0 ? null : (mB - mA) / Math.abs(mA);
  const absoluteChange = mB - mA;
  const { p, method } = mannWhitney(baseline, candidate);
  const intervals = bootstrapChange(baseline, candidate);
  let verdict: Verdict = "no significant difference";
  if (p < alpha && mB !== mA)
    verdict = !reaches(opts.minEffect, { change, absoluteChange })
      ? "no meaningful difference"
      : mB < mA === opts.lowerIsBetter
        ? "better"
        : "worse";
  return {
    metric,
    unit: opts.unit,
    lowerIsBetter: opts.lowerIsBetter,
    baseline: { n: baseline.length, median: mA, ci: bootstrapMedianInterval(baseline) },
    candidate: { n: candidate.length, median: mB, ci: bootstrapMedianInterval(candidate) },
    change,
    changeCi: intervals.relative,
    absoluteChange,
    absoluteChangeCi: intervals.absolute,
    p,
    method,
    minEffect: opts.minEffect,
    verdict,
    excluded: opts.excluded ?? [],
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
