/**
 * Drift over a long run: does a per-interval series (e2e p99, SUT memory) trend upward?
 * A least-squares line through the points, judged by how far it rises across the run
 * relative to where it started — robust to one noisy interval, unlike first-vs-last.
 */

export interface DriftVerdict {
  series: string;
  points: number;
  /** Units of the series per hour, from the fitted line. */
  slopePerHour: number;
  /** Fitted value at the end over fitted value at the start (1 = flat). */
  ratio: number;
  flagged: boolean;
  reason?: string;
}

export interface DriftOptions {
  /** Flag when the fitted end exceeds the fitted start by this factor (default 1.5 for latency). */
  maxRatio: number;
  /** Fewer points than this say nothing (default 10). */
  minPoints?: number;
  /** Ignore the first points: warm-up (JIT, caches, connection setup) is not drift. */
  skipFirst?: number;
}

export function detectDrift(
  series: string,
  points: Array<[tSec: number, value: number]>,
  opts: DriftOptions,
): DriftVerdict {
  const usable = points.slice(opts.skipFirst ?? 0).filter(([, v]) => Number.isFinite(v));
  const minPoints = opts.minPoints ?? 10;
  if (usable.length < minPoints) {
    return {
      series,
      points: usable.length,
      slopePerHour: 0,
      ratio: 1,
      flagged: false,
      reason: "too few intervals",
    };
  }
  const n = usable.length;
  const meanT = usable.reduce((a, [t]) => a + t, 0) / n;
  const meanV = usable.reduce((a, [, v]) => a + v, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, v] of usable) {
    num += (t - meanT) * (v - meanV);
    den += (t - meanT) ** 2;
  }
  const slope = den === 0 ? 0 : num / den;
  const first = usable[0]?.[0] ?? 0;
  const last = usable[n - 1]?.[0] ?? 0;
  const start = meanV + slope * (first - meanT);
  const end = meanV + slope * (last - meanT);
  const ratio = start > 0 ? end / start : end > 0 ? Number.POSITIVE_INFINITY : 1;
  const flagged = slope > 0 && ratio > opts.maxRatio;
  return {
    series,
    points: n,
    slopePerHour: slope * 3600,
    ratio: Number.isFinite(ratio) ? Math.round(ratio * 1000) / 1000 : 999,
    flagged,
    ...(flagged
      ? { reason: `${series} rose ×${ratio.toFixed(2)} across the run (limit ×${opts.maxRatio})` }
      : {}),
  };
}
