import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from "hdr-histogram-js";

/**
 * Latencies are recorded in integer microseconds in HDR histograms with 3 significant
 * digits (0.1% resolution at any magnitude); they are mergeable across workers, machines
 * and runs, and kept encoded in the results so any percentile can be recomputed later.
 */
export type { Histogram };

export const HISTOGRAM_UNIT = "us" as const;
/** An hour: anything slower is recorded as an hour rather than dropped, so the count stays right. */
const MAX_RECORDABLE_US = 3_600_000_000;

export function newHistogram(): Histogram {
  // autoResize: a histogram starts a few KB and grows only as far as the values seen need.
  return build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2,
    numberOfSignificantValueDigits: 3,
  });
}

export function recordUs(h: Histogram, us: number): void {
  h.recordValue(Math.min(MAX_RECORDABLE_US, Math.max(0, Math.round(us))));
}

export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded, 32, false);
}

/** Adds `encoded` into `into`; an empty string (nothing recorded) is a no-op. */
export function addEncoded(into: Histogram, encoded: string): void {
  if (!encoded) return;
  const h = decodeHistogram(encoded);
  into.add(h);
  h.destroy();
}

export interface PercentileSummary {
  count: number;
  /** Milliseconds from here on: what people read; the encoded histogram keeps microseconds. */
  min: number;
  mean: number;
  stdev: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p99_9: number;
  max: number;
}

const ms = (us: number): number => Math.round(us) / 1000;

export function summarize(h: Histogram): PercentileSummary {
  if (h.totalCount === 0) {
    return { count: 0, min: 0, mean: 0, stdev: 0, p50: 0, p90: 0, p95: 0, p99: 0, p99_9: 0, max: 0 };
  }
  return {
    count: h.totalCount,
    // Percentile 0 is the smallest value recorded, zero included (minNonZeroValue skips zeros).
    min: ms(h.getValueAtPercentile(0)),
    mean: ms(h.mean),
    stdev: ms(h.stdDeviation),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p99_9: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}
