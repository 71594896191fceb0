import { seededRandom } from "./random.js";
import { median } from "./summary.js";

export interface Interval {
  low: number;
  high: number;
}

interface BootstrapOptions {
  iterations?: number;
  confidence?: number;
  seed?: number;
}

/** Percentile interval of bootstrap values; null when too few are defined for its ends to be. */
function percentileInterval(values: number[], iterations: number, confidence: number): Interval | null {
  if (values.length < iterations * (1 - (1 - confidence) / 2)) return null;
  values.sort((x, y) => x - y);
  const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))] as number;
  return { low: at((1 - confidence) / 2), high: at((1 + confidence) / 2) };
}

function resampler(seed: number) {
  const random = seededRandom(seed);
  return (xs: readonly number[]) =>
    median(Array.from({ length: xs.length }, () => xs[Math.floor(random() * xs.length)] as number));
}

/**
 * Bootstrap intervals of the change of the median, each side resampled independently: the
 * difference median(b) − median(a) in the metric's unit, and the relative change
 * (median(b) − median(a)) / median(a) — null when the baseline's median is (often) 0, where a
 * relative change means nothing.
 */
export function bootstrapChange(
  a: readonly number[],
  b: readonly number[],
  opts: BootstrapOptions = {},
): { relative: Interval | null; absolute: Interval } {
  const iterations = opts.iterations ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  const resampledMedian = resampler(opts.seed ?? 0x5eed);
  const relative: number[] = [];
  const absolute: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const ma = resampledMedian(a);
    const mb = resampledMedian(b);
    absolute.push(mb - ma);
    if (ma !== 0) relative.push((mb - ma) / Math.abs(ma));
  }
  return {
    relative: percentileInterval(relative, iterations, confidence),
    absolute: percentileInterval(absolute, iterations, confidence) ?? { low: 0, high: 0 },
  };
}

export function bootstrapMedianInterval(values: readonly number[], opts: BootstrapOptions = {}): Interval {
  const iterations = opts.iterations ?? 2000;
  const resampledMedian = resampler(opts.seed ?? 0xbeef);
  const medians = Array.from({ length: iterations }, () => resampledMedian(values));
  return percentileInterval(medians, iterations, opts.confidence ?? 0.95) ?? { low: 0, high: 0 };
}
