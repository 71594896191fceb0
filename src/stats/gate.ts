import { CutoverError, EXIT } from "../util/errors.js";
import { type Bound, type MetricUnit, parseBound, worseBy } from "./effect.js";
import { formatChange, formatP } from "./format.js";
import type { MetricComparison } from "./verdict.js";

/**
 * Comparative thresholds for CI:
 *   `e2e.p99 worse`              a significant, meaningful regression
 *   `e2e.p99 worse by >10%`      … larger than 10% of the baseline
 *   `e2e.p99 worse by >5ms`      … larger than 5 ms
 *   `loss worse by >0.1pp`       … more than 0.1 percentage points more lost (works from a 0 baseline)
 * A rule fails only on a significant change for the worse, so noise never fails a build. A bound
 * replaces the metric's minimum effect: `by >2%` says a 2% regression matters.
 */
export interface GateRule {
  source: string;
  metric: string;
  /** No bound: any "worse" verdict fails. */
  bound?: Bound;
}

export interface GateOutcome {
  rule: GateRule;
  failed: boolean;
  detail: string;
}

const RULE = /^\s*([A-Za-z0-9_.]+)\s+worse(?:\s+by\s*>\s*(\S+))?\s*$/;

/** Parses a rule; given the compared metrics' units, an unknown metric or a bound in the wrong unit is refused at once. */
export function parseGateRule(source: string, units?: Readonly<Record<string, MetricUnit>>): GateRule {
  const m = RULE.exec(source);
  if (!m?.[1])
    throw new CutoverError(
      `--fail-if "${source}": expected "<metric> worse" or "<metric> worse by >N%" (or >Npp, >Nms)`,
      EXIT.usage,
    );
  const metric = m[1];
  if (units && !(metric in units))
    throw new CutoverError(
      `--fail-if "${source}": no metric ${metric} (have: ${Object.keys(units).join(", ")})`,
      EXIT.usage,
    );
  const bound = m[2] ? parseBound(m[2], units?.[metric], `--fail-if "${source}"`) : undefined;
  return bound ? { source, metric, bound } : { source, metric };
}

export function evaluateGate(rules: GateRule[], comparisons: MetricComparison[]): GateOutcome[] {
  return rules.map((rule) => {
    const c = comparisons.find((x) => x.metric === rule.metric);
    if (!c) {
      throw new CutoverError(
        `--fail-if "${rule.source}": no metric ${rule.metric} in this comparison (have: ${comparisons.map((x) => x.metric).join(", ")})`,
        EXIT.usage,
      );
    }
    const significantlyWorse =
      c.verdict === "worse" || (c.verdict === "no meaningful difference" && worseBy("absolute", c) > 0);
    const failed = rule.bound
      ? significantlyWorse && worseBy(rule.bound.kind, c) > rule.bound.value
      : c.verdict === "worse";
    const detail = `${rule.metric}: ${c.verdict} (${formatChange(c)}, p=${formatP(c.p)})`;
    return {
      rule,
      failed,
      detail: failed && rule.bound ? `${detail} — exceeds ${rule.bound.text}` : detail,
    };
  });
}
