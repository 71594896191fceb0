import type { Counters } from "../metrics/counters.js";
import type { PercentileSummary } from "../metrics/histogram.js";
import { UsageError } from "../util/errors.js";

/**
 * Pass/fail criteria, as k6 has them: `e2e.p99 < 200ms`, `lost == 0`, `loss_rate < 0.001`.
 * A latency stat is `<metric>.<p50|p90|p95|p99|p99.9|max|min|mean|count>`, compared in
 * ms (units ms/s/us accepted); a bare name is a counter or a derived rate.
 */
export type Op = "<" | "<=" | ">" | ">=" | "==" | "!=";

export interface Threshold {
  expression: string;
  metric: string;
  stat?: string;
  op: Op;
  value: number;
}

export interface ThresholdOutcome extends Threshold {
  actual: number | null;
  ok: boolean;
}

export class ThresholdError extends UsageError {}

const STATS: Record<string, keyof PercentileSummary> = {
  p50: "p50",
  p90: "p90",
  p95: "p95",
  p99: "p99",
  "p99.9": "p99_9",
  max: "max",
  min: "min",
  mean: "mean",
  avg: "mean",
  count: "count",
};

const UNITS: Record<string, number> = { "": 1, ms: 1, s: 1000, us: 0.001, µs: 0.001 };

/** `e2e.p99<200`, `e2e.p99 < 200ms`, `lost=0` (a single = reads as ==). */
export function parseThreshold(input: string, metricHint?: string): Threshold {
  const text = metricHint ? `${metricHint} ${input}` : input;
  const m =
    /^\s*([A-Za-z_][\w]*)(?:\.(p\d+(?:\.\d+)?|max|min|mean|avg|count))?\s*(<=|>=|==|!=|<|>|=)\s*(-?\d+(?:\.\d+)?)\s*(ms|s|us|µs)?\s*$/.exec(
      text,
    );
  if (!m) throw new ThresholdError(`threshold "${text}": expected e.g. "e2e.p99<200ms" or "lost==0"`);
  const [, metric = "", stat, rawOp = "", value = "0", unit = ""] = m;
  if (stat && !(stat in STATS))
    throw new ThresholdError(
      `threshold "${text}": unknown statistic ${stat} (${Object.keys(STATS).join(", ")})`,
    );
  if (unit && !stat)
    throw new ThresholdError(`threshold "${text}": a unit only makes sense on a latency statistic`);
  const op = (rawOp === "=" ? "==" : rawOp) as Op;
  const v = Number(value) * (UNITS[unit] ?? 1);
  // One spelling whatever was typed, so reports and comparisons across runs line up.
  const expression = stat ? `${metric}.${stat} ${op} ${v}ms` : `${metric} ${op} ${v}`;
  return { expression, metric, ...(stat ? { stat } : {}), op, value: v };
}

/** A scenario's `{ "e2e.p99": "< 200ms" }` plus the command line's list. */
export function collectThresholds(
  fromScenario: Record<string, string | string[]> | undefined,
  fromCli: string[],
): Threshold[] {
  const out: Threshold[] = [];
  for (const [metric, exprs] of Object.entries(fromScenario ?? {}))
    for (const e of Array.isArray(exprs) ? exprs : [exprs]) out.push(parseThreshold(e, metric));
  for (const e of fromCli) for (const part of e.split(",")) if (part.trim()) out.push(parseThreshold(part));
  return out;
}

/** Counters under the names thresholds use, plus derived rates. */
export function counterValues(
  c: Counters,
  errors: number,
  elapsedS: number,
  drift = 0,
): Record<string, number> {
  return {
    sent: c.sent,
    acked: c.acked,
    delivered: c.delivered,
    lost: c.lost,
    duplicated: c.duplicated,
    out_of_order: c.outOfOrder,
    late: c.late,
    unexpected: c.unexpected,
    dropped_iterations: c.droppedIterations,
    iterations: c.iterations,
    errors,
    send_errors: c.sendErrors,
    login_errors: c.loginErrors,
    connect_errors: c.connectErrors,
    logins: c.logins,
    dropped_connections: c.connectionsDropped,
    connects: c.connects,
    http_requests: c.httpRequests,
    http_errors: c.httpErrors,
    loss_rate: c.expectedDeliveries > 0 ? c.lost / c.expectedDeliveries : 0,
    error_rate: c.iterations > 0 ? errors / c.iterations : 0,
    achieved_rate: elapsedS > 0 ? c.sent / elapsedS : 0,
    drift,
  };
}

function compare(a: number, op: Op, b: number): boolean {
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "==":
      return a === b;
    case "!=":
      return a !== b;
  }
}

export function evaluateThresholds(
  thresholds: Threshold[],
  metrics: Record<string, PercentileSummary>,
  counters: Record<string, number>,
): ThresholdOutcome[] {
  return thresholds.map((t) => {
    let actual: number | undefined;
    if (t.stat) {
      const summary = metrics[t.metric];
      const key = STATS[t.stat];
      // A latency metric with no samples cannot pass: "e2e.p99 < 200" with nothing delivered is a failure.
      actual = summary && key && summary.count > 0 ? summary[key] : undefined;
    } else {
      actual = counters[t.metric];
    }
    return { ...t, actual: actual ?? null, ok: actual !== undefined && compare(actual, t.op, t.value) };
  });
}
