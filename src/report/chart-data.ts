import { decodeHistogram } from "../metrics/histogram.js";

/** A chart as the report page draws it with uPlot: one shared x axis, any number of series. */
export interface ChartSpec {
  id: string;
  title: string;
  kind: "spectrum" | "time";
  yLabel: string;
  x: number[];
  series: Array<{ label: string; values: Array<number | null> }>;
  /** Instants drawn across a time chart (a fault striking, lifted), on its x axis. */
  marks?: Array<{ t: number; label: string }>;
}

/**
 * x positions of the latency percentile spectrum (the HdrHistogram plot): x = 1 / (1 − p),
 * log-spaced from the median's 2 to 100,000 (p = 99.999%), so the tail gets room.
 */
export const SPECTRUM_X: number[] = [
  1,
  ...Array.from({ length: 41 }, (_, i) => 2 * 10 ** ((i / 40) * Math.log10(50_000))),
];

/** Latency in ms at each spectrum point, from an encoded histogram (µs). */
export function spectrumValues(encoded: string): number[] {
  const h = decodeHistogram(encoded);
  return SPECTRUM_X.map((x) => {
    const p = x <= 1 ? 0 : (1 - 1 / x) * 100;
    return h.getValueAtPercentile(p) / 1000;
  });
}

export function spectrumChart(
  id: string,
  title: string,
  series: Array<{ label: string; encoded: string }>,
): ChartSpec {
  return {
    id,
    title,
    kind: "spectrum",
    yLabel: "latency (ms)",
    x: SPECTRUM_X,
    series: series.map((s) => ({ label: s.label, values: spectrumValues(s.encoded) })),
  };
}

export function timeChart(
  id: string,
  title: string,
  yLabel: string,
  x: number[],
  series: ChartSpec["series"],
): ChartSpec {
  return { id, title, kind: "time", yLabel, x, series };
}
