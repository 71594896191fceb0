import type { RateStage } from "./model.js";

/**
 * When the k-th operation of an open model is meant to start, as an offset in ms from the
 * start. Computed from k, never accumulated, so the schedule cannot drift however late
 * the generator runs: the arrival count N(t) is the integral of the rate, linear within a
 * stage, and operation k is due when N(t) reaches k (the first at t = 0, as k6 does).
 */
export function arrivalSchedule(stages: RateStage[]): (k: number) => number | undefined {
  const starts: Array<{ atMs: number; count: number; stage: RateStage }> = [];
  let totalMs = 0;
  let count = 0;
  for (const stage of stages) {
    starts.push({ atMs: totalMs, count, stage });
    totalMs += stage.durationMs;
    count += ((stage.from + stage.to) / 2) * (stage.durationMs / 1000);
  }
  const total = count;
  return (k: number) => {
    if (k >= total) return undefined;
    // Few stages, so a scan; the last stage whose first arrival is at or before k.
    let i = starts.length - 1;
    while (i > 0 && (starts[i]?.count ?? 0) > k) i--;
    const s = starts[i];
    if (!s) return undefined;
    const local = k - s.count;
    const r0 = s.stage.from / 1000; // per ms
    const r1 = s.stage.to / 1000;
    const d = s.stage.durationMs;
    const a = (r1 - r0) / (2 * d);
    let t: number;
    if (Math.abs(a) < 1e-15) {
      if (r0 <= 0) return undefined;
      t = local / r0;
    } else {
      // r0·t + a·t² = local, the root in [0, d].
      const disc = r0 * r0 + 4 * a * local;
      t = (-r0 + Math.sqrt(Math.max(0, disc))) / (2 * a);
    }
    const at = s.atMs + Math.min(Math.max(t, 0), d);
    return at < totalMs ? at : undefined;
  };
}
