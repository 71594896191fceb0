import { decodeHistogram } from "../metrics/histogram.js";

/** One horizontal bar split into the stages a latency is made of. */
export interface StageBar {
  label: string;
  /** The whole latency's median (ms), drawn beside the bar: the stages' medians need not add up to it. */
  totalMs: number | undefined;
  segments: Array<{ stage: string; ms: number }>;
}

export interface StageBars {
  title: string;
  note: string;
  bars: StageBar[];
}

/**
 * e2e from the generator's intended send to the recipient, at the server's own timestamp:
 * lateness of the generator, the way in to the server's stamp, and the pipeline after it.
 */
export const E2E_STAGES = [
  { metric: "schedule_lag", stage: "generator late" },
  { metric: "to_server", stage: "client → server stamp" },
  { metric: "server_to_push", stage: "server stamp → recipient" },
] as const;

export const STAGE_NOTE =
  "Medians of each stage (ms), stacked; the e2e median is beside each bar — medians of parts need not add up to the median of the whole. " +
  "'server stamp' is the server's own timestamp on the message (OpenIM: sendTime, set by the msg service; legacy: the chat service's sendTime): " +
  "both sides of it are read on one clock only when server and generator share a machine — across machines the clock offset moves time from one stage to the other, never their sum. " +
  "Where the time after the stamp goes in OpenIM, and the knobs: docs/latency-stages.md.";

type P50Of = (metric: string) => number | undefined;

export function stageBar(label: string, p50: P50Of): StageBar | undefined {
  const segments = E2E_STAGES.flatMap(({ metric, stage }) => {
    const v = p50(metric);
    return v === undefined ? [] : [{ stage, ms: v }];
  });
  // Without the server's stamp there is nothing to split: the stack's driver does not say it.
  if (!segments.some((s) => s.stage === "server stamp → recipient")) return undefined;
  return { label, totalMs: p50("e2e"), segments };
}

/** p50 of a metric from a load results file. */
export const resultsP50 =
  (metrics: Record<string, { p50: number }> | undefined): P50Of =>
  (metric) =>
    metrics?.[metric]?.p50;

/** p50 of a metric from a comparison side's merged histograms (encoded, µs). */
export const mergedP50 =
  (merged: Record<string, string>): P50Of =>
  (metric) => {
    const encoded = merged[metric];
    if (!encoded) return undefined;
    const h = decodeHistogram(encoded);
    return h.totalCount > 0 ? h.getValueAtPercentile(50) / 1000 : undefined;
  };
