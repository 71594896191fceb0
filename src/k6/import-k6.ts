import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ledgerFigures, metricResults } from "../load/results.js";
import { loadScenario, type ResolvedScenario } from "../load/scenario.js";
import { collectThresholds, counterValues, evaluateThresholds, type Threshold } from "../load/thresholds.js";
import type { Counters } from "../metrics/counters.js";
import { emptyCounters } from "../metrics/counters.js";
import { type Histogram, newHistogram, recordUs } from "../metrics/histogram.js";
import type { LoadResults } from "../report/results-schema.js";
import { writeJsonAtomic } from "../run/results-file.js";
import { UsageError } from "../util/errors.js";
import { type K6MetricDecl, type K6Point, readK6File } from "./k6-json.js";
import { k6Threshold, UnsupportedK6Threshold } from "./k6-thresholds.js";

/**
 * k6 runs (one `--out json` file per runner) → one cutover results file. Latency histograms
 * are built from every raw point (HDR, 3 digits), counters summed, so N runners merge exactly
 * into what one runner holding all points would give; thresholds — the cutover scenario's and
 * those k6 wrote into the files — are judged on the merged figures by cutover's evaluator.
 */

/** k6 names that differ from cutover's; the scripts in k6/ already use cutover's own. */
const RENAMES: Record<string, string> = { iteration_duration: "iteration" };

/** cutover counter ← the k6 counter that feeds it. */
const COUNTER_SOURCES: Record<Exclude<keyof Counters, "scheduled" | "disconnects">, string> = {
  iterations: "iterations",
  droppedIterations: "dropped_iterations",
  failedIterations: "failed_iterations",
  sent: "sent",
  acked: "acked",
  sendErrors: "send_errors",
  expectedDeliveries: "expected_deliveries",
  delivered: "delivered",
  lost: "lost",
  duplicated: "duplicated",
  outOfOrder: "out_of_order",
  late: "late",
  unexpected: "unexpected",
  logins: "logins",
  loginErrors: "login_errors",
  connects: "connects",
  connectErrors: "connect_errors",
  connectionsDropped: "dropped_connections",
  httpRequests: "http_requests",
  httpErrors: "http_errors",
};

/** k6 metrics a threshold name of cutover's needs (k6 writes a metric only once it has a sample). */
const NEEDS: Record<string, string[]> = {
  lost: ["lost"],
  loss_rate: ["lost", "expected_deliveries"],
  delivered: ["delivered"],
  sent: ["sent"],
  acked: ["acked"],
  duplicated: ["duplicated"],
  login_errors: ["login_errors"],
  connect_errors: ["connect_errors"],
  send_errors: ["send_errors"],
  dropped_connections: ["dropped_connections"],
  logins: ["logins"],
  connects: ["connects"],
};

/** One second of the run, for the report's time charts. */
interface SecondBucket {
  counts: Map<string, number>;
  ack: Histogram | undefined;
  e2e: Histogram | undefined;
}

/** Counters the per-second intervals show, by k6 name. */
const INTERVAL_COUNTERS = [
  "sent",
  "acked",
  "delivered",
  "send_errors",
  "login_errors",
  "connect_errors",
  "dropped_iterations",
];

/** Everything the files say, summed and merged as they are read. */
export class K6Accumulator {
  readonly decls = new Map<string, K6MetricDecl>();
  readonly trends = new Map<string, Histogram>();
  readonly sums = new Map<string, number>();
  private readonly rates = new Map<string, { nonZero: number; total: number }>();
  private readonly gauges = new Map<string, { time: number; value: number }>();
  readonly instances = new Set<string>();
  readonly scenarios = new Set<string>();
  firstMs = Number.POSITIVE_INFINITY;
  lastMs = Number.NEGATIVE_INFINITY;
  /** When set, points tagged with another scenario (a multi-scenario script) are left out. */
  scenario: string | undefined;
  /** By whole second since the epoch, so files read in any order land in the same buckets. */
  private readonly seconds = new Map<number, SecondBucket>();

  private bucket(time: number): SecondBucket {
    const key = Math.floor(time / 1000);
    let b = this.seconds.get(key);
    if (!b) {
      b = { counts: new Map(), ack: undefined, e2e: undefined };
      this.seconds.set(key, b);
    }
    return b;
  }

  /** Per-second intervals from the run's first point, as cutover load writes them (no in-flight or connection counts: k6 has none). */
  intervals(): NonNullable<LoadResults["intervals"]> {
    const start = Math.floor(this.firstMs / 1000);
    const p = (h: Histogram | undefined, q: number) =>
      h && h.totalCount > 0 ? h.getValueAtPercentile(q) / 1000 : 0;
    const out: NonNullable<LoadResults["intervals"]> = [];
    for (const key of [...this.seconds.keys()].sort((a, b) => a - b)) {
      const b = this.seconds.get(key);
      if (!b) continue;
      const n = (name: string) => Math.round(b.counts.get(name) ?? 0);
      out.push({
        t: key - start + 1,
        sent: n("sent"),
        acked: n("acked"),
        delivered: n("delivered"),
        errors: n("send_errors") + n("login_errors") + n("connect_errors"),
        dropped: n("dropped_iterations"),
        rate: n("sent"),
        ackP50: p(b.ack, 50),
        ackP99: p(b.ack, 99),
        e2eP50: p(b.e2e, 50),
        e2eP99: p(b.e2e, 99),
        inFlight: 0,
        connected: 0,
      });
      b.ack?.destroy();
      b.e2e?.destroy();
    }
    return out;
  }

  metric(decl: K6MetricDecl): void {
    const seen = this.decls.get(decl.name);
    if (seen && seen.type !== decl.type)
      throw new UsageError(
        `${decl.file}:${decl.line}: metric ${decl.name} is a ${decl.type} here but a ${seen.type} in ${seen.file}:${seen.line}`,
      );
    if (!seen) this.decls.set(decl.name, decl);
    else for (const t of decl.thresholds) if (!seen.thresholds.includes(t)) seen.thresholds.push(t);
  }

  point(p: K6Point, decl: K6MetricDecl): void {
    const scenario = p.tags.scenario;
    if (scenario) {
      if (this.scenario && scenario !== this.scenario) return;
      this.scenarios.add(scenario);
    }
    if (p.tags.instance_id) this.instances.add(p.tags.instance_id);
    this.firstMs = Math.min(this.firstMs, p.time);
    this.lastMs = Math.max(this.lastMs, p.time);
    switch (decl.type) {
      case "trend": {
        const name = RENAMES[p.metric] ?? p.metric;
        let h = this.trends.get(name);
        if (!h) {
          h = newHistogram();
          this.trends.set(name, h);
        }
        // k6 trends of time are ms; cutover's histograms keep µs.
        const us = decl.contains === "time" ? p.value * 1000 : p.value;
        recordUs(h, us);
        if (name === "ack" || name === "e2e") {
          const b = this.bucket(p.time);
          b[name] ??= newHistogram();
          recordUs(b[name], us);
        }
        break;
      }
      case "counter":
        this.sums.set(p.metric, (this.sums.get(p.metric) ?? 0) + p.value);
        if (INTERVAL_COUNTERS.includes(p.metric)) {
          const counts = this.bucket(p.time).counts;
          counts.set(p.metric, (counts.get(p.metric) ?? 0) + p.value);
        }
        break;
      case "rate": {
        const r = this.rates.get(p.metric) ?? { nonZero: 0, total: 0 };
        r.total++;
        if (p.value !== 0) r.nonZero++;
        this.rates.set(p.metric, r);
        break;
      }
      case "gauge": {
        const g = this.gauges.get(p.metric);
        if (!g || p.time >= g.time) this.gauges.set(p.metric, { time: p.time, value: p.value });
        break;
      }
    }
  }

  /** k6's own aggregation values for non-trend metrics, under the names k6Threshold gives them. */
  k6Values(elapsedS: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, sum] of this.sums) {
      out[name] = sum;
      out[`${name}_per_s`] = elapsedS > 0 ? sum / elapsedS : 0;
    }
    for (const [name, r] of this.rates) out[name] = r.total > 0 ? r.nonZero / r.total : 0;
    for (const [name, g] of this.gauges) out[name] = g.value;
    return out;
  }

  counters(): Counters {
    const c = emptyCounters();
    for (const [key, source] of Object.entries(COUNTER_SOURCES) as [keyof Counters, string][])
      c[key] = Math.round(this.sums.get(source) ?? 0);
    c.scheduled = c.iterations + c.droppedIterations;
    c.disconnects = c.connects;
    return c;
  }
}

export interface ImportK6Options {
  files: string[];
  /** A cutover scenario name or file; by default the `scenario` tag of the points. */
  scenario?: string;
  /** The label compare and reports show for this side (default "k6"). */
  driver?: string;
  /** Extra thresholds, cutover's syntax. */
  thresholds?: string[];
  argv?: string[];
}

export interface ImportedK6 {
  results: LoadResults;
  warnings: string[];
  runners: number;
}

export async function importK6(o: ImportK6Options): Promise<ImportedK6> {
  if (o.files.length === 0) throw new UsageError("cutover import k6: name at least one k6 --out json file");
  const acc = new K6Accumulator();
  if (o.scenario) acc.scenario = path.basename(o.scenario).replace(/\.[cm]?[jt]s$/, "");
  const warnings: string[] = [];
  let lastWhere = "";
  for (const file of o.files) {
    const r = await readK6File(file, acc);
    warnings.push(...r.warnings);
    lastWhere = `${file}:${r.lines}`;
  }
  if (acc.firstMs > acc.lastMs)
    throw new UsageError(`${o.files.join(", ")}: no k6 Point lines — nothing was measured`);
  const scenarioName = o.scenario ?? onlyScenario(acc, o.files);
  const scenario = await loadScenario(scenarioName);
  const cutoverThresholds = collectThresholds(scenario.options.thresholds, o.thresholds ?? []);
  requireMetrics(acc, scenario, cutoverThresholds, lastWhere);

  const elapsedMs = acc.lastMs - acc.firstMs;
  const elapsedS = elapsedMs / 1000;
  const counters = acc.counters();
  const metrics = metricResults(acc.trends);
  const k6Thresholds: Threshold[] = [];
  for (const decl of acc.decls.values())
    for (const source of decl.thresholds) {
      try {
        k6Thresholds.push(k6Threshold(decl.name, decl.type, source, RENAMES[decl.name] ?? decl.name));
      } catch (err) {
        if (!(err instanceof UnsupportedK6Threshold)) throw err;
        warnings.push(`${decl.file}:${decl.line}: threshold not judged — ${err.message}`);
      }
    }
  const values = { ...acc.k6Values(elapsedS), ...counterValues(counters, errorsOf(counters), elapsedS) };
  const thresholds = evaluateThresholds([...cutoverThresholds, ...k6Thresholds], metrics, values);
  const runners = acc.instances.size > 0 ? acc.instances.size : o.files.length;
  const rate = elapsedS > 0 ? counters.scheduled / elapsedS : 0;
  const results: LoadResults = {
    kind: "cutover-load",
    schemaVersion: 1,
    status: thresholds.every((t) => t.ok) ? "passed" : "failed",
    startedAt: new Date(acc.firstMs).toISOString(),
    finishedAt: new Date(acc.lastMs).toISOString(),
    scenario: {
      name: scenario.name,
      ...(scenario.file ? { file: scenario.file } : {}),
      description: `${scenario.options.description ?? scenario.name} — k6 run imported from ${runners} runner(s)`,
    },
    target: {
      stack: "external",
      driver: o.driver ?? "k6",
      endpoints: { nginx: "", wsURL: "", openimApi: "", openimWs: "" },
    },
    parameters: {
      model: {
        kind: "open",
        source:
          scenario.options.model.kind === "ramping-arrival-rate"
            ? "ramping-arrival-rate"
            : "constant-arrival-rate",
        stages: [{ from: round1(rate), to: round1(rate), durationMs: Math.round(elapsedMs) }],
      },
      users: scenario.options.users,
      topology: scenario.options.topology ?? { kind: "pairs" },
      connect: "iteration",
      workers: runners,
      maxInFlightPerUser: 1,
      drainMs: 0,
      intervalMs: 1000,
      faults: [],
      argv: o.argv ?? [],
    },
    environment: {
      stack: "external",
      parts: [],
      host: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "unknown",
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        platform: `${os.type()} ${os.release()} ${os.arch()}`,
        node: process.version,
      },
      caveats: [
        `imported from k6 --out json (${o.files.map((f) => path.basename(f)).join(", ")}); the host above is where it was imported, not where k6 ran`,
        "k6 times ack and e2e from the stamp written just before the send (k6 gives a script no scheduled time of its iteration), after that iteration's connects",
        ...warnings,
      ],
    },
    run: {
      startedAt: new Date(acc.firstMs).toISOString(),
      elapsedMs: Math.round(elapsedMs),
      scheduleMs: Math.round(elapsedMs),
      expectedOperations: counters.scheduled,
      targetRate: round1(rate),
      achievedRate: elapsedS > 0 ? round1((counters.sent || counters.iterations) / elapsedS) : 0,
      interrupted: false,
    },
    counters,
    errors: errorTable(counters),
    ...ledgerFigures(counters, "k6 (no free VU)"),
    metrics,
    intervals: acc.intervals(),
    thresholds,
  };
  for (const h of acc.trends.values()) h.destroy();
  return { results, warnings, runners };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function errorTable(c: Counters): Record<string, number> {
  const out: Record<string, number> = {};
  if (c.sendErrors) out.send = c.sendErrors;
  if (c.loginErrors) out.login = c.loginErrors;
  if (c.connectErrors) out.connect = c.connectErrors;
  return out;
}

function errorsOf(c: Counters): number {
  return c.sendErrors + c.loginErrors + c.connectErrors + c.httpErrors;
}

function onlyScenario(acc: K6Accumulator, files: string[]): string {
  const names = [...acc.scenarios];
  if (names.length === 1 && names[0]) return names[0];
  throw new UsageError(
    names.length === 0
      ? `${files.join(", ")}: no point carries a scenario tag; name the cutover scenario with --scenario`
      : `${files.join(", ")}: points of several scenarios (${names.join(", ")}); choose one with --scenario`,
  );
}

/** A threshold on a metric the k6 files never declared means they are a run of something else. */
function requireMetrics(
  acc: K6Accumulator,
  scenario: ResolvedScenario,
  thresholds: Threshold[],
  lastFile: string,
): void {
  for (const t of thresholds) {
    const needed = t.stat
      ? [Object.entries(RENAMES).find(([, to]) => to === t.metric)?.[0] ?? t.metric]
      : (NEEDS[t.metric] ?? []);
    for (const k6Name of needed) {
      if (acc.decls.has(k6Name) || acc.trends.has(t.metric)) continue;
      throw new UsageError(
        `${lastFile}: no line declares metric ${k6Name}, which scenario ${scenario.name}'s threshold "${t.expression}" needs (a k6 run of another script?)`,
      );
    }
  }
}

/** Writes results.json in `outDir` (as `cutover load --out` does) and returns its path. */
export function writeImported(outDir: string, results: LoadResults): string {
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, "results.json");
  writeJsonAtomic(file, results);
  return file;
}
