import { existsSync } from "node:fs";
import path from "node:path";
import type { ConformanceResults } from "../conformance-runner/results.js";
import { median } from "../stats/summary.js";
import { type ChartSpec, timeChart } from "./chart-data.js";
import type { ComparisonResults } from "./comparison-schema.js";
import { readResults } from "./read-results.js";
import type { LoadResults } from "./results-schema.js";
import type { RunResults } from "./run-schema.js";
import {
  type Cell,
  casesTable,
  comparisonView,
  type ReportView,
  serverErrorsTable,
  type Table,
} from "./view-model.js";

/** Everything one `cutover run` wrote, read back: what its single report (index.html, summary.md) shows. */
export interface RunReportInputs {
  run: RunResults;
  runFile: string;
  conformance?: ConformanceResults;
  comparison?: ComparisonResults;
  baselineRuns: LoadResults[];
  candidateRuns: LoadResults[];
}

/**
 * A file the run wrote: relative to run.json, or where it was written, or — for a results folder
 * that was moved or copied from CI — the same tail of its path under the folder of run.json.
 */
function locate(file: string, runFile: string): string | undefined {
  const dir = path.dirname(runFile);
  if (!path.isAbsolute(file)) return existsSync(path.join(dir, file)) ? path.join(dir, file) : undefined;
  if (existsSync(file)) return file;
  const parts = file.split(path.sep);
  for (let k = 1; k <= Math.min(4, parts.length); k++) {
    const candidate = path.join(dir, ...parts.slice(-k));
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Reads run.json and every file it points at; a step that never ran (an interrupted run) is simply absent. */
export function readRunReport(runFile: string, run: RunResults): RunReportInputs {
  const inputs: RunReportInputs = { run, runFile, baselineRuns: [], candidateRuns: [] };
  const conformanceFile = run.conformance && locate(run.conformance.file, runFile);
  if (conformanceFile) {
    const r = readResults(conformanceFile);
    if (r.kind === "conformance") inputs.conformance = r.data;
  }
  const comparisonFile = run.comparison && locate(run.comparison.file, runFile);
  if (comparisonFile) {
    const r = readResults(comparisonFile);
    if (r.kind === "comparison") {
      inputs.comparison = r.data;
      const load = (files: string[]) =>
        files.flatMap((f) => {
          const found = locate(f, runFile);
          const res = found ? readResults(found) : undefined;
          return res?.kind === "load" ? [res.data] : [];
        });
      inputs.baselineRuns = load(r.data.baseline.files);
      inputs.candidateRuns = load(r.data.candidate.files);
    }
  }
  return inputs;
}

const c = (text: string | number, cls?: string): Cell => ({ text: String(text), cls });
const link = (text: string, href: string): Cell => ({ text, href });

function verdictOf(run: RunResults): { verdict: string; cls: ReportView["verdictClass"] } {
  if (run.status === "running" || run.status === "interrupted")
    return { verdict: run.status === "running" ? "unfinished" : "interrupted", cls: "warn" };
  const unhealthy = (run.health ?? []).some((h) => !h.ok && !h.skipped);
  const failedCases = run.conformance?.totals.failed ?? 0;
  if (run.status === "failed" && (unhealthy || failedCases > 0 || run.error))
    return { verdict: "FAILED", cls: "bad" };
  if (run.comparison?.gateFailed) return { verdict: "GATE FAILED", cls: "bad" };
  return run.status === "passed" ? { verdict: "PASSED", cls: "ok" } : { verdict: "FAILED", cls: "bad" };
}

function summaryTable(i: RunReportInputs): Table {
  const { run, conformance, comparison } = i;
  const rows: Cell[][] = [];
  const health = run.health ?? [];
  if (health.length > 0) {
    const bad = health.filter((h) => !h.ok && !h.skipped).length;
    rows.push([
      c("stack health"),
      c(`${health.length - bad}/${health.length} checks pass`, bad ? "worse" : "better"),
    ]);
  }
  if (run.conformance) {
    const t = run.conformance.totals;
    rows.push([
      c("conformance"),
      c(`${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`, t.failed ? "worse" : "better"),
    ]);
  }
  const groups = conformance?.serverErrorGroups ?? [];
  if (conformance) {
    const unexplained = groups.reduce((s, g) => s + g.unexplainedCount, 0);
    const provoked = groups.reduce((s, g) => s + g.provokedCount, 0);
    rows.push([
      c("server errors"),
      c(
        groups.length > 0
          ? `${unexplained} no case explains, ${provoked} provoked by negative cases (${groups.length} distinct messages)`
          : `${conformance.serverErrors.length} logged`,
        unexplained > 0 ? "worse" : "same",
      ),
    ]);
  }
  if (comparison) {
    const decided = comparison.metrics.filter((m) => m.verdict === "better" || m.verdict === "worse");
    rows.push([
      c(`${comparison.candidate.label} vs ${comparison.baseline.label}`),
      c(
        decided.length > 0
          ? decided.map((m) => `${m.metric} ${m.verdict}`).join(", ")
          : "no meaningful difference",
        decided.some((m) => m.verdict === "worse") ? "worse" : "same",
      ),
    ]);
    for (const g of comparison.gate)
      rows.push([c(`gate: ${g.rule}`), c(g.detail, g.failed ? "worse" : "better")]);
  }
  if (run.error) rows.push([c("stopped by"), c(run.error, "worse")]);
  return { title: "Verdict", head: ["step", "outcome"], rows };
}

function environmentTable(i: RunReportInputs): Table | undefined {
  const env = i.run.environment;
  if (!env) return undefined;
  const rows: Cell[][] = [
    [c("cutover"), c(i.run.cutoverVersion ?? "?")],
    [c("command"), c((i.run.argv ?? []).join(" ") || "cutover run")],
    [c("stack"), c(`${env.stack}${env.startedByCutover ? ", started by cutover" : ""}`)],
    [
      c("machine"),
      c(`${env.host.cpus} × ${env.host.cpuModel}, ${env.host.memoryGiB} GiB, ${env.host.platform}`),
    ],
    [c("Node"), c(env.host.node)],
    [
      c("generator"),
      c(env.generatorSharesMachine ? "shares the machine with the stack" : "on its own machine"),
    ],
    ...env.parts.map((p) => [c(p.name), c(p.note ? `${p.what} — ${p.note}` : p.what)]),
  ];
  return { title: "Environment", head: ["what", "value"], rows };
}

function filesTable(i: RunReportInputs): Table {
  const dir = path.dirname(i.runFile);
  const rel = (f: string) => path.relative(dir, f) || path.basename(f);
  const files: Array<[string, string]> = [["run (this report's source)", i.runFile]];
  if (i.run.conformance) {
    const base = i.run.conformance.file.replace(/\.json$/, "");
    files.push(["conformance results", i.run.conformance.file]);
    for (const ext of [".html", ".md", ".junit.xml"])
      files.push([`conformance ${ext.slice(1)}`, `${base}${ext}`]);
  }
  if (i.run.comparison) {
    files.push(["comparison results", i.run.comparison.file]);
    for (const r of i.run.comparison.reports) files.push([`comparison ${path.extname(r).slice(1)}`, r]);
  }
  if (i.comparison)
    for (const side of [i.comparison.baseline, i.comparison.candidate])
      side.files.forEach((f, n) => {
        files.push([`${side.label} run ${n + 1}`, f]);
        files.push([`${side.label} run ${n + 1} interval log`, path.join(path.dirname(f), "intervals.hlog")]);
      });
  return {
    title: "Files",
    note: "Every raw file this report was built from; `cutover report <run.json>` rebuilds it.",
    head: ["what", "file"],
    rows: files.flatMap(([what, f]) => {
      const found = locate(f, i.runFile);
      return found ? [[c(what), link(rel(found), rel(found))]] : [];
    }),
  };
}

/** Latency per second into the run, the median over each side's runs: both stacks on one time axis. */
function latencyOverTime(i: RunReportInputs): ChartSpec[] {
  const cmp = i.comparison;
  if (!cmp || (i.baselineRuns.length === 0 && i.candidateRuns.length === 0)) return [];
  const seconds = [
    ...new Set([...i.baselineRuns, ...i.candidateRuns].flatMap((r) => (r.intervals ?? []).map((v) => v.t))),
  ].sort((a, b) => a - b);
  const series = (runs: LoadResults[], pick: (v: NonNullable<LoadResults["intervals"]>[number]) => number) =>
    seconds.map((t) => {
      const values = runs.flatMap((r) =>
        (r.intervals ?? []).filter((v) => v.t === t && v.sent > 0).map(pick),
      );
      return values.length > 0 ? median(values) : null;
    });
  const charts: ChartSpec[] = [];
  for (const [name, p50, p99] of [
    ["e2e", (v: { e2eP50: number }) => v.e2eP50, (v: { e2eP99: number }) => v.e2eP99],
    ["ack", (v: { ackP50: number }) => v.ackP50, (v: { ackP99: number }) => v.ackP99],
  ] as const)
    charts.push(
      timeChart(
        `run-${name}-time`,
        `${name} latency over time (median of each side's runs per second)`,
        "ms",
        seconds,
        [
          { label: `${cmp.baseline.label} p50`, values: series(i.baselineRuns, p50) },
          { label: `${cmp.baseline.label} p99`, values: series(i.baselineRuns, p99) },
          { label: `${cmp.candidate.label} p50`, values: series(i.candidateRuns, p50) },
          { label: `${cmp.candidate.label} p99`, values: series(i.candidateRuns, p99) },
        ],
      ),
    );
  return charts;
}

/** The one page for a whole run: the verdict first, then conformance case by case, the comparison, the environment, the files. */
export function runView(i: RunReportInputs): ReportView {
  const { verdict, cls } = verdictOf(i.run);
  const cmpView = i.comparison ? comparisonView(i.comparison) : undefined;
  const tables: Table[] = [summaryTable(i)];
  if (cmpView) tables.push(...cmpView.tables);
  if (i.conformance) {
    const errors = serverErrorsTable(i.conformance);
    tables.push(casesTable(i.conformance));
    if (errors) tables.push(errors);
  }
  const unhealthy = (i.run.health ?? []).filter((h) => !h.ok);
  if (i.run.health && i.run.health.length > 0)
    tables.push({
      title: `Stack health (${i.run.health.length - unhealthy.length}/${i.run.health.length})`,
      head: ["check", "ok", "detail"],
      rows: [...unhealthy, ...i.run.health.filter((h) => h.ok)].map((h) => [
        c(h.name),
        c(h.ok ? "✓" : h.skipped ? "not offered" : "✗", h.ok ? "better" : "worse"),
        c(h.detail),
      ]),
    });
  const env = environmentTable(i);
  if (env) tables.push(env);
  tables.push(filesTable(i));
  const caveats = [...new Set([...(i.run.environment?.caveats ?? []), ...(i.comparison?.caveats ?? [])])];
  const t = i.run.conformance?.totals;
  return {
    title: "cutover run",
    subtitle: [
      `${i.run.environment?.stack ?? "?"} stack`,
      t ? `conformance ${t.passed}/${t.passed + t.failed}` : "",
      i.comparison
        ? `${i.comparison.baseline.label} → ${i.comparison.candidate.label} on ${i.comparison.scenario}`
        : "",
      `${i.run.startedAt}${i.run.finishedAt ? ` → ${i.run.finishedAt}` : ""}`,
    ]
      .filter(Boolean)
      .join(" · "),
    verdict,
    verdictClass: cls,
    caveats,
    tables,
    charts: [...latencyOverTime(i), ...(cmpView?.charts ?? [])],
    blocks: [],
  };
}
