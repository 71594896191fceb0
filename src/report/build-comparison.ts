import { COMPARED_METRICS, whyMissing } from "../compare/compared-metrics.js";
import { addEncoded, encodeHistogram, newHistogram } from "../metrics/histogram.js";
import type { Bound } from "../stats/effect.js";
import { evaluateGate, type GateRule } from "../stats/gate.js";
import { cv, median } from "../stats/summary.js";
import { compareMetric, sensitivity } from "../stats/verdict.js";
import type { ComparisonResults } from "./comparison-schema.js";
import type { LoadResults } from "./results-schema.js";

// e2e and ack are plotted; the stages make the "where the time goes" bars of both sides.
const HISTOGRAMS = ["e2e", "ack", "schedule_lag", "to_server", "server_to_ack", "server_to_push"] as const;

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
        COMPARED_METRICS.flatMap((m) => (m.of(r) === undefined ? [] : [[m.name, m.of(r) as number]])),
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
  /** Per-metric minimum effects that replace the defaults. */
  minEffect?: Readonly<Record<string, Bound>>;
}): ComparisonResults {
  const { baseline, candidate } = opts;
  const skipped: string[] = [];
  const metrics = COMPARED_METRICS.flatMap((m) => {
    const excluded: string[] = [];
    const values = (s: typeof baseline) =>
      s.runs.flatMap((r, i) => {
        const v = m.of(r);
        if (v === undefined)
          excluded.push(`${s.label} run ${i + 1} (${s.files[i] ?? "?"}): ${whyMissing(r, m)}`);
        return v === undefined ? [] : [v];
      });
    const a = values(baseline);
    const b = values(candidate);
    // A metric neither side has (a closed-model run has no offered rate) is simply not compared.
    if (a.length === 0 && b.length === 0) return [];
    if (a.length === 0 || b.length === 0) {
      skipped.push(`${m.name}: ${excluded.join("; ")}`);
      return [];
    }
    return [
      compareMetric(m.name, a, b, {
        lowerIsBetter: m.lowerIsBetter,
        unit: m.unit,
        minEffect: opts.minEffect?.[m.name] ?? m.minEffect,
        excluded,
      }),
    ];
  });
  // Run-to-run noise of the headline metric, from both sides pooled around their own medians.
  const e2e = COMPARED_METRICS.find((m) => m.name === "e2e.p99");
  const spread = [baseline, candidate].flatMap((s) => {
    const v = e2e ? s.runs.map(e2e.of).filter((x): x is number => x !== undefined) : [];
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
  for (const s of [baseline, candidate]) {
    const dropped = s.runs.map((r) => r.droppedIterations?.count ?? r.counters?.droppedIterations ?? 0);
    const total = dropped.reduce((x, y) => x + y, 0);
    if (total > 0)
      caveats.push(
        `${s.label} dropped ${total} scheduled operations in ${dropped.filter((d) => d > 0).length} of ${dropped.length} runs (the generator could not keep the rate): dropped operations record no latency, so ${s.label}'s latency percentiles are optimistic`,
      );
  }
  for (const line of skipped) caveats.push(`not compared — ${line}`);
  return {
    kind: "cutover-comparison",
    version: 2,
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
