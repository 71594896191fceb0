import { seededRandom } from "./random.js";
import { median } from "./summary.js";

export interface Interval {
  low: number;
  high: number;
}

/**
 * Percentile-bootstrap confidence interval of the relative change of the median,
 * (median(b) − median(a)) / median(a), resampling each side independently.
 */
export function bootstrapRelativeChange(
  a: readonly number[],
  b: readonly number[],
  opts: { iterations?: number; confidence?: number; seed?: number } = {},
): Interval {
  const iterations = opts.iterations ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  const random = seededRandom(opts.seed ?? 0x5eed);
  const resample = (xs: readonly number[]) =>
    Array.from({ length: xs.length }, () => xs[Math.floor(random() * xs.length)] as number);
  const changes: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const ma = median(resample(a));
    const mb = median(resample(b));
    if (ma !== 0) changes.push((mb - ma) / Math.abs(ma));
  }
  changes.sort((x, y) => x - y);
  const lo = changes[Math.floor(((1 - confidence) / 2) * changes.length)] ?? Number.NaN;
  const hi =
    changes[Math.min(changes.length - 1, Math.floor(((1 + confidence) / 2) * changes.length))] ?? Number.NaN;
  return { low: lo, high: hi };
}

export function bootstrapMedianInterval(
  values: readonly number[],
  opts: { iterations?: number; confidence?: number; seed?: number } = {},
): Interval {
  const iterations = opts.iterations ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  const random = seededRandom(opts.seed ?? 0xbeef);
  const medians: number[] = [];
  for (let i = 0; i < iterations; i++) {
    medians.push(
      median(
        Array.from({ length: values.length }, () => values[Math.floor(random() * values.length)] as number),
      ),
    );
  }
  medians.sort((x, y) => x - y);
  return {
    low: medians[Math.floor(((1 - confidence) / 2) * medians.length)] ?? Number.NaN,
    high:
      medians[Math.min(medians.length - 1, Math.floor(((1 + confidence) / 2) * medians.length))] ??
      Number.NaN,
  };
}
