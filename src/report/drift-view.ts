import { type ChartSpec, timeChart } from "./chart-data.js";
import type { LoadResults } from "./results-schema.js";
import type { Cell, Table } from "./view-model.js";

/**
 * Drift in a load report: one row per judged process (a data store's growth per 1,000
 * messages, a service's growth and ratio), the latency verdict when it is flagged, and the
 * curves: every process's RSS over the run, and a chart of its own for each flagged process.
 */

const MB = 2 ** 20;
const mb = (b: number) => `${b >= 0 ? "+" : "−"}${(Math.abs(b) / MB).toFixed(1)}`;
const size = (b: number) =>
  Math.abs(b) >= MB
    ? `${(b / MB).toFixed(1)} MB`
    : Math.abs(b) >= 1024
      ? `${(b / 1024).toFixed(0)} KB`
      : `${b} B`;
const c = (text: string | number, cls?: string): Cell => ({ text: String(text), cls });

export function driftTables(r: LoadResults): Table[] {
  const drift = r.drift ?? [];
  const tables: Table[] = drift
    .filter((d) => d.flagged && !d.process)
    .map((d) => ({
      title: `Drift flagged: ${d.series}`,
      head: ["slope/h", "ratio", "why"],
      rows: [[c(d.slopePerHour.toFixed(3), "num"), c(d.ratio.toFixed(2), "num"), c(d.reason ?? "")]],
    }));
  const perProcess = drift.filter((d) => d.process);
  if (perProcess.length === 0) return tables;
  const flagged = perProcess.filter((d) => d.flagged).map((d) => d.process);
  const judged = perProcess.some((d) => d.reason !== "too few intervals");
  tables.push({
    title: flagged.length
      ? `Drift per process: ${[...new Set(flagged)].join(", ")} drifted`
      : judged
        ? "Drift per process: none drifted"
        : "Drift per process: not judged (under a minute of samples)",
    note: "Data stores are set against the messages written (growth per 1,000 messages, flagged only when that cost rises in the run's second half); services and the generator are leak suspects, flagged when their RSS rises past the ratio and a floor.",
    head: ["process", "role", "measure", "growth MB", "per 1,000 messages", "ratio", "verdict", "why"],
    rows: perProcess.map((d) => [
      c(d.process ?? ""),
      c(d.role ?? ""),
      c(d.measure ?? "rss"),
      c(d.growthBytes === undefined ? "—" : mb(d.growthBytes), "num"),
      c(
        d.perThousandMessages
          ? `${size(d.perThousandMessages.whole)} (${size(d.perThousandMessages.firstHalf)} → ${size(d.perThousandMessages.secondHalf)})`
          : "—",
        "num",
      ),
      c(d.ratio.toFixed(2), "num"),
      c(
        d.flagged ? "FLAGGED" : d.reason === "too few intervals" ? "not judged" : "ok",
        d.flagged ? "worse" : "better",
      ),
      c(d.flagged ? (d.reason ?? "") : (d.summary ?? "")),
    ]),
  });
  return tables;
}

export function driftCharts(r: LoadResults): ChartSpec[] {
  const samples = r.resources?.samples ?? [];
  if (samples.length === 0) return [];
  const x = samples.map((s) => s.t);
  const names = [...new Set(samples.flatMap((s) => s.processes.map((p) => p.name)))];
  const rssOf = (name: string) =>
    samples.map((s) => {
      const p = s.processes.find((q) => q.name === name && q.alive);
      return p ? Math.round((p.rssBytes / MB) * 10) / 10 : null;
    });
  const flagged = [
    ...new Set(
      (r.drift ?? [])
        .filter((d) => d.flagged && d.process && d.role !== "generator")
        .map((d) => d.process as string),
    ),
  ];
  const charts: ChartSpec[] = [
    timeChart(
      "rss-per-process",
      flagged.length ? `Memory per process — drifted: ${flagged.join(", ")}` : "Memory per process",
      "MB",
      x,
      names.map((name) => ({
        label: flagged.includes(name) ? `${name} (drifted)` : name,
        values: rssOf(name),
      })),
    ),
  ];
  for (const name of flagged)
    charts.push(
      timeChart(
        `rss-${name.replace(/[^\w-]/g, "_")}`,
        `${name}: memory over the run (drift flagged)`,
        "MB",
        x,
        [{ label: `${name} RSS MB`, values: rssOf(name) }],
      ),
    );
  if (samples.some((s) => s.generator)) {
    const generatorFlagged = (r.drift ?? []).some((d) => d.flagged && d.role === "generator");
    charts.push(
      timeChart(
        "generator",
        `The generator (cutover itself)${generatorFlagged ? " — drift flagged" : ""}`,
        "MB / % of one core",
        x,
        [
          {
            label: "RSS MB",
            values: samples.map((s) =>
              s.generator ? Math.round((s.generator.rssBytes / MB) * 10) / 10 : null,
            ),
          },
          { label: "CPU %", values: samples.map((s) => s.generator?.cpuPercent ?? null) },
        ],
      ),
    );
  }
  return charts;
}
