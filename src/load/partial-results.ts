import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { type Counters, emptyCounters } from "../metrics/counters.js";
import { type IntervalLogContents, readIntervalLog } from "../metrics/hdr-log-read.js";
import { addEncoded, type Histogram, newHistogram } from "../metrics/histogram.js";
import { type ResourceSample, summarizeResources } from "../metrics/proc-sampler.js";
import { judgeProcessDrift, messagesFromIntervals, processSeries } from "../metrics/process-drift.js";
import {
  LOAD_RESULTS_KIND,
  LOAD_RESULTS_VERSION,
  type LoadResults,
  loadResultsSchema,
  resourceSampleSchema,
} from "../report/results-schema.js";
import { describeEnvironment } from "../run/environment.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import { CutoverError, EXIT } from "../util/errors.js";
import type { IntervalSummary } from "./aggregate.js";
import { metricResults, processDriftOptions } from "./results.js";

/**
 * A results file rebuilt from what a killed `cutover load` left: the interval log (histograms,
 * and the books and resource samples it carries as comments) and the results.json written at
 * the start. Marked interrupted and partial, with what could not be recovered said by name.
 */
export function rebuildFromLog(logFile: string): LoadResults {
  let text: string;
  try {
    text = readFileSync(logFile, "utf8");
  } catch (err) {
    throw new CutoverError(`cannot read interval log ${logFile}: ${(err as Error).message}`, EXIT.usage);
  }
  const log = readIntervalLog(text);
  if (log.startTimeMs === undefined && log.intervals.length === 0)
    throw new CutoverError(
      `${logFile} is not an HdrHistogram interval log written by cutover load`,
      EXIT.usage,
    );
  const missing: string[] = [];
  const base = startingResults(logFile, log, missing);
  const runStartMs = log.startTimeMs ?? Date.parse(base.startedAt);

  const phaseOffsets = [...new Set(log.counters.map((c) => c.phaseOffsetSec))];
  const firstOffset = phaseOffsets[0] ?? Math.min(...log.intervals.map((i) => i.startSec), 0);
  const lastEnd = Math.max(0, ...log.intervals.map((i) => i.endSec), ...log.counters.map((c) => c.endSec));
  if (phaseOffsets.length > 1)
    missing.push(
      `the phases apart: the log holds ${phaseOffsets.length} phases (a capacity search's steps), added together here`,
    );

  const counters = booksAtEnd(log);
  if (!counters)
    missing.push(
      "the books (sent, acked, delivered, lost): this log has no counter lines (written by an older cutover); per-interval counts are the histograms' counts",
    );
  const c = counters ?? countsFromHistograms(log);
  const outstanding = c.expectedDeliveries - c.delivered - c.lost;
  if (outstanding > 0)
    missing.push(
      `the ledger's final counts: ${outstanding} deliveries were outstanding when the log ends (neither delivered nor judged lost: the drain never ran)`,
    );
  missing.push(
    "errors by code (the log holds their counts only)",
    "setup's login and connect latencies (measured before the log's phase)",
    "threshold verdicts (a partial run is not judged)",
    "the generator's totals (CPU seconds, peak RSS)",
  );

  const totals = new Map<string, Histogram>();
  for (const i of log.intervals) {
    let h = totals.get(i.tag);
    if (!h) {
      h = newHistogram();
      totals.set(i.tag, h);
    }
    addEncoded(h, i.encoded);
  }
  const metrics = metricResults(totals);
  for (const h of totals.values()) h.destroy();

  const intervals = intervalSummaries(log, firstOffset, counters !== undefined);
  const elapsedS = Math.max(0, lastEnd - firstOffset);
  const samples = resourceSamples(log);
  const resources: LoadResults["resources"] =
    samples.length > 0
      ? {
          note: "rebuilt from the interval log of an interrupted run",
          intervalMs:
            samples.length > 1 ? Math.round(((samples[1]?.t ?? 0) - (samples[0]?.t ?? 0)) * 1000) : 0,
          samples,
          summary: summarizeResources(samples),
        }
      : undefined;
  if (!resources) missing.push("resource samples (none in the log: not a local stack, or an older cutover)");
  const drift =
    samples.length > 0
      ? judgeProcessDrift(
          processSeries(samples),
          messagesFromIntervals(intervals, firstOffset),
          processDriftOptions(undefined, 5),
        )
      : undefined;
  if (drift) missing.push("the scenario's drift limits (defaults used) and the e2e p99 drift verdict");

  const results: LoadResults = {
    ...base,
    status: "interrupted",
    finishedAt: new Date(runStartMs + lastEnd * 1000).toISOString(),
    run: {
      startedAt: new Date(runStartMs + firstOffset * 1000).toISOString(),
      elapsedMs: Math.round(elapsedS * 1000),
      scheduleMs: Math.round(elapsedS * 1000),
      expectedOperations: c.scheduled,
      targetRate: constantRate(base.parameters.model),
      achievedRate: elapsedS > 0 ? Math.round((c.sent / elapsedS) * 10) / 10 : 0,
      interrupted: true,
    },
    counters: c,
    errors: {},
    accounting: {
      expected: c.expectedDeliveries,
      delivered: c.delivered,
      lost: c.lost,
      balanced: c.delivered + c.lost === c.expectedDeliveries,
    },
    droppedIterations: { count: c.droppedIterations },
    metrics,
    intervalLog: path.resolve(logFile),
    intervals,
    ...(resources ? { resources } : {}),
    ...(drift ? { drift } : {}),
    partial: {
      source: "interval-log",
      log: path.resolve(logFile),
      rebuiltAt: new Date().toISOString(),
      intervals: intervals.length,
      unreadableLines: log.unreadableLines,
      missing,
    },
  };
  return loadResultsSchema.parse(results);
}

/** The results.json beside the log (written at the start, so it says what was asked), or a stand-in from the log's header. */
function startingResults(logFile: string, log: IntervalLogContents, missing: string[]): LoadResults {
  const file = path.join(path.dirname(logFile), "results.json");
  if (existsSync(file)) {
    try {
      const parsed = loadResultsSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
      if (parsed.success) return parsed.data;
    } catch {
      // unreadable: fall through to the stand-in
    }
  }
  missing.push("the run's parameters (no readable results.json beside the log)");
  const m = /^cutover load (\S+) via (\S+);/.exec(log.description ?? "");
  const startedAt = new Date(log.startTimeMs ?? 0).toISOString();
  return {
    kind: LOAD_RESULTS_KIND,
    schemaVersion: LOAD_RESULTS_VERSION,
    status: "interrupted",
    startedAt,
    scenario: { name: m?.[1] ?? "unknown" },
    target: {
      stack: "local",
      driver: m?.[2] ?? "unknown",
      endpoints: { nginx: "", wsURL: "", openimApi: "", openimWs: "" },
    },
    parameters: {
      model: { kind: "open", source: "constant-arrival-rate", stages: [] },
      users: 0,
      topology: { kind: "pairs" },
      connect: "setup",
      workers: 0,
      maxInFlightPerUser: 0,
      drainMs: 0,
      intervalMs: 0,
      faults: [],
      argv: [],
    },
    environment: describeEnvironment({ stack: "local", parts: [] } as Pick<
      StackEndpoints,
      "stack" | "parts"
    > as StackEndpoints),
  };
}

/** The last cumulative books of each phase, added up; undefined when the log has none. */
function booksAtEnd(log: IntervalLogContents): Counters | undefined {
  if (log.counters.length === 0) return undefined;
  const lastOfPhase = new Map<number, Record<string, number>>();
  for (const c of log.counters) lastOfPhase.set(c.phaseOffsetSec, c.counters);
  const total = emptyCounters();
  for (const books of lastOfPhase.values())
    for (const key of Object.keys(total) as Array<keyof Counters>) total[key] += books[key] ?? 0;
  return total;
}

function countsFromHistograms(log: IntervalLogContents): Counters {
  const count = (tag: string) => log.intervals.filter((i) => i.tag === tag).reduce((a, i) => a + i.count, 0);
  const acked = count("ack");
  return { ...emptyCounters(), sent: acked, acked, delivered: count("e2e") };
}

/** One summary per interval the log holds, in seconds since the first phase's start. */
function intervalSummaries(
  log: IntervalLogContents,
  firstOffset: number,
  withBooks: boolean,
): IntervalSummary[] {
  const key = (sec: number) => Math.round(sec * 1000);
  const ends = new Map<number, { start: number; tags: Map<string, string> }>();
  for (const i of log.intervals) {
    const slot = ends.get(key(i.endSec)) ?? { start: i.startSec, tags: new Map<string, string>() };
    slot.tags.set(i.tag, i.encoded);
    ends.set(key(i.endSec), slot);
  }
  const books = new Map<number, { phase: number; counters: Record<string, number> }>();
  for (const c of log.counters) books.set(key(c.endSec), { phase: c.phaseOffsetSec, counters: c.counters });
  // An interval with counters but no histogram (nothing measured in it) is an interval all the same;
  // it began where the one before it ended.
  for (const k of books.keys()) if (!ends.has(k)) ends.set(k, { start: Number.NaN, tags: new Map() });
  const previous = new Map<number, Record<string, number>>();
  const out: IntervalSummary[] = [];
  let lastEnd = firstOffset;
  for (const k of [...ends.keys()].sort((a, b) => a - b)) {
    const slot = ends.get(k) as { start: number; tags: Map<string, string> };
    const b = books.get(k);
    const prev = b ? (previous.get(b.phase) ?? {}) : {};
    if (b) previous.set(b.phase, b.counters);
    const delta = (name: string) => (b?.counters[name] ?? 0) - (prev[name] ?? 0);
    const errorsOf = (r: Record<string, number>) =>
      ["sendErrors", "loginErrors", "connectErrors", "failedIterations", "httpErrors"].reduce(
        (a, n) => a + (r[n] ?? 0),
        0,
      );
    const ack = pcts(slot.tags.get("ack"));
    const e2e = pcts(slot.tags.get("e2e"));
    const seconds = Math.max(0.001, k / 1000 - (Number.isNaN(slot.start) ? lastEnd : slot.start));
    lastEnd = k / 1000;
    const sent = withBooks ? delta("sent") : ack.count;
    out.push({
      t: Math.round((k / 1000 - firstOffset) * 1000) / 1000,
      sent,
      acked: withBooks ? delta("acked") : ack.count,
      delivered: withBooks ? delta("delivered") : e2e.count,
      errors: b ? errorsOf(b.counters) - errorsOf(prev) : 0,
      dropped: withBooks ? delta("droppedIterations") : 0,
      rate: Math.round((sent / seconds) * 10) / 10,
      ackP50: ack.p50,
      ackP99: ack.p99,
      e2eP50: e2e.p50,
      e2eP99: e2e.p99,
      inFlight: b?.counters.inFlight ?? 0,
      connected: b?.counters.connected ?? 0,
    });
  }
  return out;
}

function pcts(encoded: string | undefined): { count: number; p50: number; p99: number } {
  if (!encoded) return { count: 0, p50: 0, p99: 0 };
  const h = newHistogram();
  addEncoded(h, encoded);
  const out = {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50) / 1000,
    p99: h.getValueAtPercentile(99) / 1000,
  };
  h.destroy();
  return out;
}

function resourceSamples(log: IntervalLogContents): ResourceSample[] {
  const out: ResourceSample[] = [];
  for (const raw of log.resources) {
    const parsed = resourceSampleSchema.safeParse(raw);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

/** The offered rate when the model held one rate throughout; 0 when it ramped (or is unknown). */
function constantRate(model: LoadResults["parameters"]["model"]): number {
  if (model.kind !== "open" || model.stages.length === 0) return 0;
  const rates = new Set(model.stages.flatMap((s) => [s.from, s.to]));
  return rates.size === 1 ? (model.stages[0]?.from ?? 0) : 0;
}
