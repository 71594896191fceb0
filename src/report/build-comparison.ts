import { addEncoded, encodeHistogram, newHistogram } from "../metrics/histogram.js";
import { evaluateGate, type GateRule } from "../stats/gate.js";
import { cv, median } from "../stats/summary.js";
import { compareMetric, sensitivity } from "../stats/verdict.js";
import type { ComparisonResults } from "./comparison-schema.js";
import type { LoadResults } from "./results-schema.js";

/** The per-run numbers a comparison rests on, and which direction is better for each. */
const METRICS: Array<{ name: string; lowerIsBetter: boolean; of: (r: LoadResults) => number | undefined }> = [
  { name: "e2e.p50", lowerIsBetter: true, of: (r) => r.metrics?.e2e?.p50 },
  { name: "e2e.p99", lowerIsBetter: true, of: (r) => r.metrics?.e2e?.p99 },
  { name: "ack.p50", lowerIsBetter: true, of: (r) => r.metrics?.ack?.p50 },
  { name: "ack.p99", lowerIsBetter: true, of: (r) => r.metrics?.ack?.p99 },
  {
    name: "throughput",
    lowerIsBetter: false,
    of: (r) =>
      r.counters && r.run && r.run.elapsedMs > 0
        ? r.counters.delivered / (r.run.elapsedMs / 1000)
        : undefined,
  },
  {
    name: "loss",
    lowerIsBetter: true,
    of: (r) =>
      r.accounting && r.accounting.expected > 0 ? r.accounting.lost / r.accounting.expected : undefined,
  },
  {
    name: "errors",
    lowerIsBetter: true,
    of: (r) => (r.counters && r.counters.sent > 0 ? r.counters.sendErrors / r.counters.sent : undefined),
  },
];

const HISTOGRAMS = ["e2e", "ack"] as const;

function side(label: string, files: string[], runs: LoadResults[]) {
  const merged: Record<string, string> = {};
  for (const name of HISTOGRAMS) {
    const h = newHistogram();
    let any = false;
    for (const r of runs) {
      const m = r.metrics?.[name];
      if (m) {
        addEncoded(h, m.histogram.data);
        any = true;
      }
    }
    if (any) merged[name] = encodeHistogram(h);
  }
  return {
    label,
    driver: runs[0]?.target.driver ?? "?",
    stack: runs[0]?.target.stack ?? "?",
    files,
    runs: runs.map((r) =>
      Object.fromEntries(
        METRICS.flatMap((m) => (m.of(r) === undefined ? [] : [[m.name, m.of(r) as number]])),
      ),
    ),
    merged,
  };
}

export function buildComparison(opts: {
  baseline: { label: string; files: string[]; runs: LoadResults[] };
  candidate: { label: string; files: string[]; runs: LoadResults[] };
  interleaved: boolean;
  gate: GateRule[];
}): ComparisonResults {
  const { baseline, candidate } = opts;
  const metrics = METRICS.flatMap((m) => {
    const a = baseline.runs.map(m.of).filter((v): v is number => v !== undefined);
    const b = candidate.runs.map(m.of).filter((v): v is number => v !== undefined);
    return a.length > 0 && b.length > 0
      ? [compareMetric(m.name, a, b, { lowerIsBetter: m.lowerIsBetter })]
      : [];
  });
  // Run-to-run noise of the headline metric, from both sides pooled around their own medians.
  const e2e = METRICS[1]!;
  const spread = [baseline, candidate].flatMap((s) => {
    const v = s.runs.map(e2e.of).filter((x): x is number => x !== undefined);
    const m = median(v);
    return v.map((x) => (m ? x / m : 1));
  });
  const noise = spread.length > 2 ? cv(spread) : 0;
  const sens = sensitivity(baseline.runs.length, candidate.runs.length, noise);
  const note = !sens.canReachAlpha
    ? `with ${baseline.runs.length} runs against ${candidate.runs.length} the rank test cannot reach p < 0.05 (smallest possible p = ${sens.smallestP.toFixed(3)}): no verdict can be "better" or "worse"; use at least 4 runs per side`
    : sens.detectableShift !== undefined
      ? `with ${baseline.runs.length} vs ${candidate.runs.length} runs and the observed run-to-run noise (CV ${(noise * 100).toFixed(1)}% on e2e.p99), shifts of about ${(sens.detectableShift * 100).toFixed(0)}% or more are detected with 80% power; smaller ones may show as "no significant difference"`
      : `the run-to-run noise (CV ${(noise * 100).toFixed(1)}%) is too large for ${baseline.runs.length} vs ${candidate.runs.length} runs to detect even a doubling reliably`;
  const caveats = [...new Set([...baseline.runs, ...candidate.runs].flatMap((r) => r.environment.caveats))];
  return {
    kind: "cutover-comparison",
    version: 1,
    createdAt: new Date().toISOString(),
    scenario: baseline.runs[0]?.scenario.name ?? candidate.runs[0]?.scenario.name ?? "?",
    interleaved: opts.interleaved,
    baseline: side(baseline.label, baseline.files, baseline.runs),
    candidate: side(candidate.label, candidate.files, candidate.runs),
    metrics,
    sensitivity: { ...sens, note },
    gate: evaluateGate(opts.gate, metrics).map((g) => ({
      rule: g.rule.source,
      failed: g.failed,
      detail: g.detail,
    })),
    caveats,
  };
}
