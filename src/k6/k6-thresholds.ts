import type { Op, Threshold } from "../load/thresholds.js";
import type { K6MetricType } from "./k6-json.js";

/**
 * k6's threshold expressions (grafana/k6 metrics/thresholds_parser.go: `<aggregation> <op>
 * <number>`, aggregations count|rate for counters, rate for rates, value for gauges,
 * avg|min|max|med|p(N) for trends) as cutover Thresholds, so the one evaluator judges both.
 * Non-latency aggregations become keys of the counter table evaluateThresholds reads:
 * `<metric>` for a counter's count, a rate's fraction and a gauge's value, `<metric>_per_s`
 * for a counter's rate (count over the run, as k6's CounterSink has it).
 */

const TREND_STATS: Record<string, string> = { avg: "mean", min: "min", max: "max", med: "p50" };
/** The percentiles cutover's summaries keep (src/load/thresholds.ts STATS). */
const PERCENTILES = new Set(["50", "90", "95", "99", "99.9"]);

export class UnsupportedK6Threshold extends Error {}

export function k6Threshold(metric: string, type: K6MetricType, source: string, name = metric): Threshold {
  const m =
    /^\s*(p\(\s*(\d+(?:\.\d+)?)\s*\)|avg|min|max|med|count|rate|value)\s*(===|==|!=|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(
      source,
    );
  if (!m) throw new UnsupportedK6Threshold(`${metric}: "${source}" is not a k6 threshold expression`);
  const [, agg = "", pct, rawOp = "", rawValue = "0"] = m;
  const op = (rawOp === "===" ? "==" : rawOp) as Op;
  const value = Number(rawValue);
  const expression = `${metric}: ${source.trim()} (k6)`;
  if (type === "trend") {
    let stat = TREND_STATS[agg];
    if (pct !== undefined) {
      if (!PERCENTILES.has(String(Number(pct))))
        throw new UnsupportedK6Threshold(`${metric}: ${source}: cutover keeps p50 p90 p95 p99 p99.9`);
      stat = Number(pct) === 99.9 ? "p99.9" : `p${Number(pct)}`;
    }
    if (!stat) throw new UnsupportedK6Threshold(`${metric}: ${agg} is not a trend aggregation`);
    return { expression, metric: name, stat, op, value };
  }
  const allowed = type === "counter" ? ["count", "rate"] : type === "rate" ? ["rate"] : ["value"];
  if (!allowed.includes(agg))
    throw new UnsupportedK6Threshold(
      `${metric}: ${agg} is not an aggregation of a ${type} (${allowed.join(", ")})`,
    );
  return { expression, metric: type === "counter" && agg === "rate" ? `${name}_per_s` : name, op, value };
}
