import type { LoadResults } from "../report/results-schema.js";
import { type Bound, type MetricUnit, parseBound } from "../stats/effect.js";
import { CutoverError, EXIT } from "../util/errors.js";

/** A per-run number a comparison rests on: its unit, which direction is better, and the smallest change that matters. */
export interface ComparedMetric {
  name: string;
  unit: MetricUnit;
  lowerIsBetter: boolean;
  minEffect: Bound;
  what: string;
  of(r: LoadResults): number | undefined;
}

const relative = (pct: number): Bound => ({ kind: "relative", value: pct / 100, text: `${pct}%` });
const points = (pp: number): Bound => ({ kind: "absolute", value: pp / 100, text: `${pp}pp` });

const latency = (name: string, histogram: "e2e" | "ack", q: "p50" | "p99"): ComparedMetric => ({
  name,
  unit: "ms",
  lowerIsBetter: true,
  // HDR quantisation and run-to-run noise on a shared machine make smaller shifts meaningless.
  minEffect: relative(5),
  what: `${q} of ${histogram === "e2e" ? "send → delivery" : "send → ack"} latency`,
  of: (r) => r.metrics?.[histogram]?.[q],
});

export const COMPARED_METRICS: readonly ComparedMetric[] = [
  latency("e2e.p50", "e2e", "p50"),
  latency("e2e.p99", "e2e", "p99"),
  latency("ack.p50", "ack", "p50"),
  latency("ack.p99", "ack", "p99"),
  {
    name: "throughput",
    unit: "msg/s",
    lowerIsBetter: false,
    // In an open model throughput is the offered rate; the last fraction of a percent is schedule edges.
    minEffect: relative(1),
    what: "deliveries per second",
    of: (r) =>
      r.counters && r.run && r.run.elapsedMs > 0
        ? r.counters.delivered / (r.run.elapsedMs / 1000)
        : undefined,
  },
  {
    name: "achieved",
    unit: "ratio",
    lowerIsBetter: false,
    minEffect: points(1),
    what: "achieved ÷ offered rate (open model)",
    of: (r) =>
      r.parameters.model.kind === "open" && r.run && r.run.targetRate > 0
        ? r.run.achievedRate / r.run.targetRate
        : undefined,
  },
  {
    name: "dropped",
    unit: "ratio",
    lowerIsBetter: true,
    minEffect: points(0.1),
    what: "share of scheduled operations the generator dropped (they record no latency)",
    of: (r) =>
      r.run && r.run.expectedOperations > 0
        ? (r.droppedIterations?.count ?? r.counters?.droppedIterations ?? 0) / r.run.expectedOperations
        : undefined,
  },
  {
    name: "loss",
    unit: "ratio",
    lowerIsBetter: true,
    minEffect: points(0.1),
    what: "share of expected deliveries lost",
    of: (r) =>
      r.accounting && r.accounting.expected > 0 ? r.accounting.lost / r.accounting.expected : undefined,
  },
  {
    name: "errors",
    unit: "ratio",
    lowerIsBetter: true,
    minEffect: points(0.1),
    what: "share of sends that failed",
    of: (r) => (r.counters && r.counters.sent > 0 ? r.counters.sendErrors / r.counters.sent : undefined),
  },
];

export const comparedMetricUnits: Readonly<Record<string, MetricUnit>> = Object.fromEntries(
  COMPARED_METRICS.map((m) => [m.name, m.unit]),
);

/** `--min-effect 'e2e.p99=10%'`, `'loss=0.5pp'`, `'ack.p50=2ms'`: the smallest change that earns a verdict. */
export function parseMinEffect(source: string): { metric: string; bound: Bound } {
  const [metric, size, ...rest] = source.split("=");
  const unit = metric ? comparedMetricUnits[metric.trim()] : undefined;
  if (!metric || size === undefined || rest.length > 0)
    throw new CutoverError(
      `--min-effect "${source}": expected <metric>=<size>, e.g. e2e.p99=10%`,
      EXIT.usage,
    );
  if (!unit)
    throw new CutoverError(
      `--min-effect "${source}": no metric ${metric.trim()} (have: ${Object.keys(comparedMetricUnits).join(", ")})`,
      EXIT.usage,
    );
  return { metric: metric.trim(), bound: parseBound(size, unit, `--min-effect "${source}"`) };
}

/** Why a run has no value for a metric, for the report's list of runs left out. */
export function whyMissing(r: LoadResults, metric: ComparedMetric): string {
  if (r.counters && r.counters.sent === 0) return "sent nothing";
  if (metric.name === "achieved" && r.parameters.model.kind !== "open")
    return "closed model: no offered rate";
  return `no ${metric.name} recorded`;
}

/** All `--min-effect` flags as a table by metric. */
export function minEffects(sources: readonly string[] = []): Record<string, Bound> {
  return Object.fromEntries(sources.map(parseMinEffect).map((e) => [e.metric, e.bound]));
}
