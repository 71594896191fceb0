/**
 * How much a counter grew between two instants, from its raw samples (sorted by time, and
 * reaching back before `fromSec`). Baseline: the first sample at or after `fromSec`; end: the
 * first at or after `toSec`; a drop between two samples is a restart (the counter began again
 * from 0). A series with no sample before `fromSec` was born in the window — a labelled counter
 * appears at its first increment — and counts from 0. Exact where PromQL's increase()
 * extrapolates: the books must match message for message. undefined: not scraped after `toSec`.
 */
export function counterIncrease(
  samples: ReadonlyArray<readonly [number, number]>,
  fromSec: number,
  toSec: number,
): number | undefined {
  const end = samples.findIndex(([t]) => t >= toSec);
  if (end === -1) return undefined;
  const bornInside = (samples[0]?.[0] ?? toSec) >= fromSec;
  let i = bornInside ? 0 : samples.findIndex(([t]) => t >= fromSec);
  let prev = bornInside ? 0 : (samples[i]?.[1] ?? 0);
  if (!bornInside) i++;
  let total = 0;
  for (; i <= end; i++) {
    const v = samples[i]?.[1] ?? 0;
    total += v >= prev ? v - prev : v;
    prev = v;
  }
  return total;
}
