import type { MetricUnit } from "./effect.js";

/** p as people read it: three decimals, and "<0.001" rather than a misleading "0.000". */
export function formatP(p: number): string {
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

const trim = (v: number, digits: number) => Number(v.toFixed(digits)).toString();

/** A value in its unit: ratios as percentages, latencies in ms. */
export function formatValue(unit: MetricUnit, v: number): string {
  if (!Number.isFinite(v)) return "—";
  if (unit === "ratio") return `${trim(v * 100, 2)}%`;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return unit === "ms" ? `${v.toFixed(digits)} ms` : unit === "msg/s" ? `${v.toFixed(digits)}/s` : trim(v, 2);
}

/** A change: relative where the baseline allows it, else absolute (percentage points for ratios). */
export function formatChange(c: { unit: MetricUnit; change: number | null; absoluteChange: number }): string {
  const sign = (v: number) => (v > 0 ? "+" : v < 0 ? "−" : "±");
  if (c.change !== null && c.unit !== "ratio")
    return `${sign(c.change)}${trim(Math.abs(c.change) * 100, 1)}%`;
  const a = c.absoluteChange;
  if (c.unit === "ratio") return `${sign(a)}${trim(Math.abs(a) * 100, 2)}pp`;
  return `${sign(a)}${formatValue(c.unit, Math.abs(a))}`;
}
