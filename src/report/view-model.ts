import { comparedMetricUnits } from "../compare/compared-metrics.js";
import type { ConformanceResults } from "../conformance-runner/results.js";
import { formatChange, formatP, formatValue } from "../stats/format.js";
import { type ChartSpec, spectrumChart, timeChart } from "./chart-data.js";
import type { ComparisonResults } from "./comparison-schema.js";
import { driftCharts, driftTables } from "./drift-view.js";
import { PARTIAL_VERDICT, partialBlock } from "./partial-view.js";
import type { LoadResults } from "./results-schema.js";
import { serverCharts, serverTables } from "./server-view.js";
import { mergedP50, resultsP50, STAGE_NOTE, type StageBar, type StageBars, stageBar } from "./stage-bars.js";

/** What every report format shows, derived from results files only. */
export interface Cell {
  text: string;
  cls?: string;
  /** A link (relative to the report) to a file the report was built from. */
  href?: string;
}
export interface Table {
  title: string;
  note?: string;
  head: string[];
  rows: Cell[][];
  /** The HTML offers a filter on this column's values (e.g. a case's status). */
  filterColumn?: number;
}
export interface ReportView {
  title: string;
  subtitle: string;
  verdict: string;
  verdictClass: "ok" | "bad" | "warn";
  caveats: string[];
  tables: Table[];
  charts: ChartSpec[];
  blocks: Array<{ title: string; text: string }>;
  /** Where a latency's time goes, one stacked bar per run or stack. */
  stageBars?: StageBars;
}

const ms = (v: number | undefined) =>
  v === undefined ? "—" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
const c = (text: string | number, cls?: string): Cell => ({ text: String(text), cls });
const num = (text: string | number): Cell => c(text, "num");

export function loadView(r: LoadResults): ReportView {
  const failedThresholds = (r.thresholds ?? []).filter((t) => !t.ok);
  const unbalanced = r.accounting && !r.accounting.balanced;
  const bad = r.status !== "passed" || failedThresholds.length > 0 || unbalanced;
  const tables: Table[] = [];
  const metrics = Object.entries(r.metrics ?? {});
  tables.push({
    title: "Latency (ms)",
    note: "Measured from each operation's intended start time (open model), so a stalled server shows in the tail.",
    head: ["metric", "count", "p50", "p90", "p95", "p99", "p99.9", "max", "what"],
    rows: metrics.map(([name, m]) => [
      c(name),
      num(m.count),
      num(ms(m.p50)),
      num(ms(m.p90)),
      num(ms(m.p95)),
      num(ms(m.p99)),
      num(ms(m.p99_9)),
      num(ms(m.max)),
      c(m.description),
    ]),
  });
  const note = r.accounting
    ? `delivered + lost = ${r.accounting.delivered + r.accounting.lost} of ${r.accounting.expected} expected: ${r.accounting.balanced ? "the books balance" : r.partial ? `${r.accounting.expected - r.accounting.delivered - r.accounting.lost} outstanding when the run was killed (the drain never ran to judge them)` : "THE BOOKS DO NOT BALANCE"}`
    : undefined;
  if (r.counters) {
    const k = r.counters;
    tables.push({
      title: "Delivery accounting",
      note,
      head: [
        "sent",
        "acked",
        "send errors",
        "expected deliveries",
        "delivered",
        "lost",
        "duplicated",
        "out of order",
        "dropped iterations",
      ],
      rows: [
        [
          num(k.sent),
          num(k.acked),
          num(k.sendErrors),
          num(k.expectedDeliveries),
          num(k.delivered),
          c(k.lost, k.lost > 0 ? "worse num" : "num"),
          num(k.duplicated),
          num(k.outOfOrder),
          c(k.droppedIterations, k.droppedIterations > 0 ? "worse num" : "num"),
        ],
      ],
    });
  } else if (r.accounting) {
    const a = r.accounting;
    tables.push({
      title: "Delivery accounting",
      note,
      head: ["expected deliveries", "delivered", "lost"],
      rows: [[num(a.expected), num(a.delivered), c(a.lost, a.lost > 0 ? "worse num" : "num")]],
    });
  }
  if (r.errors && Object.keys(r.errors).length > 0) {
    tables.push({
      title: "Errors by code",
      head: ["code", "count"],
      rows: Object.entries(r.errors).map(([code, n]) => [c(code), num(n)]),
    });
  }
  if (r.protocolErrors && Object.keys(r.protocolErrors).length > 0) {
    tables.push({
      title: "Protocol errors (frames the server should never send)",
      head: ["kind", "count"],
      rows: Object.entries(r.protocolErrors).map(([kind, n]) => [c(kind), num(n)]),
    });
  }
  if (r.thresholds && r.thresholds.length > 0) {
    tables.push({
      title: "Thresholds",
      head: ["threshold", "actual", "outcome"],
      rows: r.thresholds.map((t) => [
        c(t.expression),
        num(t.actual === null ? "—" : ms(t.actual)),
        c(t.ok ? "pass" : "FAIL", t.ok ? "better" : "worse"),
      ]),
    });
  }
  if (r.resources?.summary.length) {
    tables.push({
      title: "System under test: CPU and memory",
      note: r.resources.note,
      head: ["process", "CPU mean %", "CPU max %", "RSS start MB", "RSS end MB", "RSS max MB"],
      rows: r.resources.summary.map((s) => [
        c(s.name),
        num(s.cpuPercentMean.toFixed(1)),
        num(s.cpuPercentMax.toFixed(1)),
        num((s.rssStartBytes / 2 ** 20).toFixed(0)),
        num((s.rssEndBytes / 2 ** 20).toFixed(0)),
        num((s.rssMaxBytes / 2 ** 20).toFixed(0)),
      ]),
    });
  }
  if (r.capacity) {
    tables.push({
      title: `Capacity search: highest rate held ${r.capacity.highestRateHeld ?? "none"}/s${r.capacity.limitedBy ? ` (limited by ${r.capacity.limitedBy})` : ""}`,
      head: ["rate", "achieved", "held", "e2e p99", "lost", "why not"],
      rows: r.capacity.steps.map((s) => [
        num(s.rate),
        num(s.achievedRate.toFixed(1)),
        c(s.held ? "yes" : "no", s.held ? "better" : "worse"),
        num(ms(s.e2eP99)),
        num(s.lost),
        c(s.failures.join("; ")),
      ]),
    });
  }
  tables.push(...serverTables(r));
  tables.push(...driftTables(r));
  if (r.shards && r.shards.length > 0)
    tables.push({
      title: "Shards",
      note: `merged from ${r.shards.length} shards by cutover merge: the totals above are their sums; each shard's users, and so each latency, lived on one machine`,
      head: [
        "shard",
        "status",
        "users",
        "sent",
        "delivered",
        "expected",
        "lost",
        "duplicated",
        "out of order",
        "dropped",
        "errors",
        "sent/s",
      ],
      rows: r.shards.map((s) => [
        num(s.index),
        c(s.status, s.status === "passed" ? "better" : "worse"),
        num(s.users),
        num(s.sent),
        num(s.delivered),
        num(s.expectedDeliveries),
        num(s.lost),
        num(s.duplicated),
        num(s.outOfOrder),
        num(s.droppedIterations),
        num(s.errors),
        num(s.achievedRate.toFixed(1)),
      ]),
    });

  const charts: ChartSpec[] = [];
  const spectrum = metrics.filter(([name]) =>
    ["e2e", "ack", "e2e_last", "login", "connect", "heartbeat"].includes(name),
  );
  if (spectrum.length > 0)
    charts.push(
      spectrumChart(
        "spectrum",
        "Latency percentile spectrum",
        spectrum.map(([name, m]) => ({ label: name, encoded: m.histogram.data })),
      ),
    );
  const iv = r.intervals ?? [];
  if (iv.length > 0) {
    const x = iv.map((i) => i.t);
    charts.push(
      timeChart("latency-time", "Latency over time (per interval)", "ms", x, [
        { label: "e2e p50", values: iv.map((i) => i.e2eP50) },
        { label: "e2e p99", values: iv.map((i) => i.e2eP99) },
        { label: "ack p99", values: iv.map((i) => i.ackP99) },
      ]),
    );
    charts.push(
      timeChart("throughput-time", "Throughput and errors over time", "per second", x, [
        { label: "sent/s", values: iv.map((i) => i.rate) },
        { label: "delivered", values: iv.map((i) => i.delivered) },
        { label: "errors", values: iv.map((i) => i.errors) },
        { label: "dropped", values: iv.map((i) => i.dropped) },
      ]),
    );
  }
  const samples = r.resources?.samples ?? [];
  if (samples.length > 0) {
    const x = samples.map((s) => s.t);
    charts.push(
      timeChart("sut-cpu", "System under test: CPU", "% of one core", x, [
        { label: "CPU %", values: samples.map((s) => s.totalCpuPercent) },
      ]),
    );
    charts.push(
      timeChart("sut-rss", "System under test: memory", "MB", x, [
        { label: "RSS MB", values: samples.map((s) => s.totalRssBytes / 2 ** 20) },
      ]),
    );
  }
  charts.push(...serverCharts(r));
  charts.push(...driftCharts(r));
  // Every time chart shares the run's clock with the fault events: draw each fault where it struck.
  const marks = (r.faultEvents ?? []).map((e) => ({ t: e.t, label: e.what }));
  if (marks.length > 0) for (const chart of charts) if (chart.kind === "time") chart.marks = marks;
  if (marks.length > 0)
    tables.push({
      title: "Faults",
      note: (r.parameters.faults ?? []).join("; "),
      head: ["seconds into the run", "what happened"],
      rows: marks.map((m) => [num(m.t.toFixed(1)), c(m.label)]),
    });
  const partial = partialBlock(r);
  const bar = stageBar(`${r.target.driver} on ${r.target.stack}`, resultsP50(r.metrics));
  return {
    ...(bar ? { stageBars: { title: "Where the e2e time goes", note: STAGE_NOTE, bars: [bar] } } : {}),
    title: `cutover load · ${r.scenario.name}`,
    subtitle: `${r.target.driver} on the ${r.target.stack} stack · ${r.startedAt}${r.run ? ` · ${(r.run.elapsedMs / 1000).toFixed(1)} s at ${r.run.achievedRate.toFixed(1)}/s (target ${r.run.targetRate}/s)` : ""}`,
    verdict: partial
      ? PARTIAL_VERDICT
      : bad
        ? r.status === "interrupted"
          ? "interrupted"
          : "failed"
        : "passed",
    verdictClass: partial ? "warn" : bad ? "bad" : "ok",
    caveats: r.environment.caveats,
    tables,
    charts,
    blocks: [...(partial ? [partial] : []), ...(r.error ? [{ title: "Error", text: r.error }] : [])],
  };
}

export function comparisonView(r: ComparisonResults): ReportView {
  const gateFailed = r.gate.some((g) => g.failed);
  const worse = r.metrics.filter((m) => m.verdict === "worse");
  const changeCi = (m: (typeof r.metrics)[number]) =>
    m.changeCi && m.unit !== "ratio"
      ? `${formatChange({ ...m, change: m.changeCi.low })} … ${formatChange({ ...m, change: m.changeCi.high })}`
      : `${formatChange({ ...m, change: null, absoluteChange: m.absoluteChangeCi.low })} … ${formatChange({ ...m, change: null, absoluteChange: m.absoluteChangeCi.high })}`;
  const excluded = r.metrics.flatMap((m) => m.excluded.map((e) => `${m.metric}: ${e}`));
  const tables: Table[] = [
    {
      title: `${r.candidate.label} vs ${r.baseline.label}`,
      note: [
        r.sensitivity.note.replace(/([^.])$/, "$1."),
        'A verdict needs both p < 0.05 and a change of at least the metric\'s minimum effect; a significant change below it is "no meaningful difference".',
        excluded.length > 0 ? `Left out: ${excluded.join("; ")}.` : "",
      ]
        .filter(Boolean)
        .join(" "),
      head: [
        "metric",
        `${r.baseline.label} median`,
        `${r.candidate.label} median`,
        "change",
        "95% CI of change",
        "min effect",
        "p (Mann-Whitney)",
        "verdict",
      ],
      rows: r.metrics.map((m) => [
        c(m.metric),
        num(formatValue(m.unit, m.baseline.median)),
        num(formatValue(m.unit, m.candidate.median)),
        num(formatChange(m)),
        num(changeCi(m)),
        num(m.minEffect.text),
        num(`${formatP(m.p)} ${m.method}`),
        c(m.verdict, m.verdict === "better" ? "better" : m.verdict === "worse" ? "worse" : "same"),
      ]),
    },
  ];
  if (r.gate.length > 0)
    tables.push({
      title: "Release gate",
      head: ["rule", "outcome"],
      rows: r.gate.map((g) => [c(g.rule), c(g.detail, g.failed ? "worse" : "better")]),
    });
  const runValue = (name: string, v: number | undefined) =>
    v === undefined ? "—" : formatValue(comparedMetricUnits[name] ?? "count", v);
  const names = [
    ...new Set([...Object.keys(r.baseline.runs[0] ?? {}), ...Object.keys(r.candidate.runs[0] ?? {})]),
  ];
  tables.push({
    title: `Runs (${r.interleaved ? "interleaved" : "as given"})`,
    head: ["side", "#", ...names],
    rows: [
      ...r.baseline.runs.map((run, i) => [
        c(r.baseline.label),
        num(i + 1),
        ...names.map((n) => num(runValue(n, run[n]))),
      ]),
      ...r.candidate.runs.map((run, i) => [
        c(r.candidate.label),
        num(i + 1),
        ...names.map((n) => num(runValue(n, run[n]))),
      ]),
    ],
  });
  const charts: ChartSpec[] = [];
  for (const name of ["e2e", "ack"]) {
    const a = r.baseline.merged[name];
    const b = r.candidate.merged[name];
    if (a && b) {
      charts.push(
        spectrumChart(`cmp-${name}`, `${name} latency, all runs merged`, [
          { label: r.baseline.label, encoded: a },
          { label: r.candidate.label, encoded: b },
        ]),
      );
    }
  }
  const bars = [
    stageBar(`${r.baseline.label} (${r.baseline.driver})`, mergedP50(r.baseline.merged)),
    stageBar(`${r.candidate.label} (${r.candidate.driver})`, mergedP50(r.candidate.merged)),
  ].filter((b): b is StageBar => b !== undefined);
  return {
    ...(bars.length > 0
      ? {
          stageBars: {
            title: "Where the e2e time goes, per stack (all runs merged)",
            note: STAGE_NOTE,
            bars,
          },
        }
      : {}),
    title: `cutover compare · ${r.scenario}`,
    subtitle: `${r.baseline.runs.length} × ${r.baseline.label} (${r.baseline.driver}) against ${r.candidate.runs.length} × ${r.candidate.label} (${r.candidate.driver}) · ${r.createdAt}`,
    verdict: gateFailed
      ? "gate failed"
      : worse.length > 0
        ? `worse on ${worse.map((m) => m.metric).join(", ")}`
        : "no regression",
    verdictClass: gateFailed ? "bad" : worse.length > 0 ? "warn" : "ok",
    caveats: r.caveats,
    tables,
    charts,
    blocks: [],
  };
}

/** Every conformance case, failed first, filterable by status. */
export function casesTable(r: ConformanceResults): Table {
  const order = { failed: 0, skipped: 1, passed: 2 } as const;
  const cases = [...r.cases].sort(
    (a, b) => order[a.state] - order[b.state] || a.fullName.localeCompare(b.fullName),
  );
  return {
    title: `Every case (${r.cases.length})`,
    note: "Failed first; the source column names the OpenIM code (or gateway file) the case reads the behaviour from.",
    filterColumn: 2,
    head: ["suite", "case", "status", "ms", "source", "what happened"],
    rows: cases.map((x) => [
      c(x.suite),
      c(x.fullName),
      c(x.state, x.state === "failed" ? "worse" : x.state === "passed" ? "better" : "same"),
      num(Math.round(x.durationMs)),
      c((x.source ?? []).join("\n"), "src"),
      c(x.state === "failed" ? (x.error ?? "") : x.state === "skipped" ? (x.skipReason ?? "") : "", "msg"),
    ]),
  };
}

/** What the servers logged during conformance, grouped by message where the results have groups. */
export function serverErrorsTable(r: ConformanceResults): Table | undefined {
  const groups = r.serverErrorGroups;
  if (groups && groups.length > 0)
    return {
      title: `Errors the stack logged during conformance (${groups.length} distinct messages)`,
      note: 'Grouped by message. "provoked": logged while a negative case that declares it ran (a forged token, a refused send); "unexplained": no case accounts for it — look at these first.',
      head: ["message", "count", "unexplained", "provoked", "processes", "first", "example"],
      rows: groups.map((g) => [
        c(g.message, g.unexplainedCount > 0 ? "worse" : "same"),
        num(g.count),
        num(g.unexplainedCount),
        num(g.provokedCount),
        c(g.processes.join(", ")),
        c(g.first ?? ""),
        c(g.example, "msg"),
      ]),
    };
  if (r.serverErrors.length === 0) return undefined;
  return {
    title: `Errors the stack logged during conformance (${r.serverErrors.length})`,
    head: ["process", "during", "line"],
    rows: r.serverErrors.map((e) => [c(e.process), c(e.duringCase ?? "—"), c(e.line, "msg")]),
  };
}

export function conformanceView(r: ConformanceResults): ReportView {
  const tables: Table[] = [
    {
      title: "Suites",
      head: ["suite", "passed", "failed", "skipped"],
      rows: r.suites.map((s) => {
        const cs = r.cases.filter((x) => x.suite === s);
        const n = (st: string) => cs.filter((x) => x.state === st).length;
        return [c(s), num(n("passed")), c(n("failed"), n("failed") ? "worse num" : "num"), num(n("skipped"))];
      }),
    },
    casesTable(r),
  ];
  const errors = serverErrorsTable(r);
  if (errors) tables.push(errors);
  return {
    title: "cutover conformance",
    subtitle: `${r.totals.passed} passed, ${r.totals.failed} failed, ${r.totals.skipped} skipped · ${r.target.stack} stack · ${r.startedAt}`,
    verdict: r.totals.failed === 0 ? "passed" : `${r.totals.failed} failed`,
    verdictClass: r.totals.failed === 0 ? (r.serverErrors.length ? "warn" : "ok") : "bad",
    caveats: r.caveats,
    tables,
    charts: [],
    blocks: [],
  };
}
