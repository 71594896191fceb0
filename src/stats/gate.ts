import { CutoverError, EXIT } from "../util/errors.js";
import type { MetricComparison } from "./verdict.js";

/**
 * Comparative thresholds for CI: `e2e.p99 worse by >10%`, `throughput worse`, `lost worse by >0%`.
 * A rule fails only on a significant "worse" verdict whose change exceeds the bound, so
 * noise never fails a build.
 */
export interface GateRule {
  source: string;
  metric: string;
  /** Fractional bound, e.g. 0.1; 0 when the rule has no "by" part. */
  bound: number;
}

export interface GateOutcome {
  rule: GateRule;
  failed: boolean;
  detail: string;
}

const RULE = /^\s*([A-Za-z0-9_.]+)\s+worse(?:\s+by\s*>\s*(\d+(?:\.\d+)?)\s*%)?\s*$/;

export function parseGateRule(source: string): GateRule {
  const m = RULE.exec(source);
  if (!m)
    throw new CutoverError(
      `--fail-if "${source}": expected "<metric> worse" or "<metric> worse by >N%"`,
      EXIT.usage,
    );
  return { source, metric: m[1]!, bound: m[2] ? Number(m[2]) / 100 : 0 };
}

export function evaluateGate(rules: GateRule[], comparisons: MetricComparison[]): GateOutcome[] {
  return rules.map((rule) => {
    const c = comparisons.find((x) => x.metric === rule.metric);
    if (!c) {
      throw new CutoverError(
        `--fail-if "${rule.source}": no metric ${rule.metric} (have: ${comparisons.map((x) => x.metric).join(", ")})`,
        EXIT.usage,
      );
    }
    const magnitude = c.lowerIsBetter ? c.change : -c.change;
    const failed = c.verdict === "worse" && magnitude > rule.bound;
    const pct = `${(c.change * 100).toFixed(1)}%`;
    return {
      rule,
      failed,
      detail: `${rule.metric}: ${c.verdict} (${pct}, p=${c.p.toFixed(3)})${failed ? ` — exceeds ${(rule.bound * 100).toFixed(0)}%` : ""}`,
    };
  });
}
