import { CutoverError, EXIT } from "../util/errors.js";

/**
 * Sizes of change. A relative change cannot describe a rate or count whose baseline is 0
 * (every healthy run's loss and errors), so each metric has a unit and a change can also be
 * absolute: percentage points for ratios, milliseconds for latencies, the unit itself otherwise.
 */
export type MetricUnit = "ms" | "msg/s" | "ratio" | "count";

export interface Bound {
  kind: "relative" | "absolute";
  /** Relative: a fraction (0.1 = 10%). Absolute: in the metric's unit (ratios as fractions). */
  value: number;
  /** As the user wrote it, e.g. "2.5%", "0.1pp", "5ms". */
  text: string;
}

const BOUND = /^(\d+(?:\.\d+)?)\s*(%|pp|ms)?$/;

/** Reads "10%", "0.1pp", "5ms" or "3" for a metric of `unit`; `what` names the flag in errors. */
export function parseBound(text: string, unit: MetricUnit | undefined, what: string): Bound {
  const m = BOUND.exec(text.trim());
  if (!m) throw new CutoverError(`${what}: "${text}" is not a size (e.g. 10%, 0.1pp, 5ms)`, EXIT.usage);
  const value = Number(m[1]);
  const suffix = m[2] ?? "";
  const shown = `${m[1]}${suffix}`;
  if (suffix === "%") return { kind: "relative", value: value / 100, text: shown };
  if (unit === undefined)
    return { kind: "absolute", value: suffix === "pp" ? value / 100 : value, text: shown };
  if (suffix === "pp") {
    if (unit !== "ratio")
      throw new CutoverError(
        `${what}: pp (percentage points) applies to rates such as loss, not ${unit}`,
        EXIT.usage,
      );
    return { kind: "absolute", value: value / 100, text: shown };
  }
  if (suffix === "ms") {
    if (unit !== "ms") throw new CutoverError(`${what}: ms applies to latencies, not ${unit}`, EXIT.usage);
    return { kind: "absolute", value, text: shown };
  }
  if (unit === "ratio" || unit === "ms")
    throw new CutoverError(
      `${what}: say the unit of "${text}": ${unit === "ratio" ? "pp (percentage points) or %" : "ms or %"}`,
      EXIT.usage,
    );
  return { kind: "absolute", value, text: shown };
}

/** The change in the direction that is worse (positive = worse), relative (Infinity from a 0 baseline) or absolute. */
export function worseBy(
  bound: Bound["kind"],
  c: { change: number | null; absoluteChange: number; lowerIsBetter: boolean },
): number {
  const sign = c.lowerIsBetter ? 1 : -1;
  if (bound === "absolute") return sign * c.absoluteChange;
  if (c.change === null)
    return c.absoluteChange === 0 ? 0 : sign * c.absoluteChange > 0 ? Infinity : -Infinity;
  return sign * c.change;
}

/** Whether a change is at least `bound` in either direction: smaller ones are not worth a verdict. */
export function reaches(bound: Bound, c: { change: number | null; absoluteChange: number }): boolean {
  if (bound.kind === "absolute") return Math.abs(c.absoluteChange) >= bound.value;
  if (c.change === null) return c.absoluteChange !== 0;
  return Math.abs(c.change) >= bound.value;
}
