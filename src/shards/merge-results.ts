import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { IntervalSummary } from "../load/aggregate.js";
import { ledgerFigures, METRIC_DESCRIPTIONS, metricResult, totalErrors } from "../load/results.js";
import { counterValues, evaluateThresholds, parseThreshold } from "../load/thresholds.js";
import {
  addCounters,
  addErrors,
  type Counters,
  type ErrorCounts,
  emptyCounters,
} from "../metrics/counters.js";
import { detectDrift } from "../metrics/drift.js";
import { HdrIntervalLog } from "../metrics/hdr-log.js";
import { readIntervalLog } from "../metrics/hdr-log-read.js";
import { decodeHistogram, type Histogram, newHistogram } from "../metrics/histogram.js";
import { type LoadResults, loadResultsSchema, parseLoadResults } from "../report/results-schema.js";
import { UsageError } from "../util/errors.js";
import { identityDifference } from "./shard-identity.js";

/**
 * The shards of one run → one results file, exactly: counters and ledgers summed, every
 * histogram added bucket by bucket (HDR histograms merge without loss, so the merged p99 is
 * the p99 of all samples at HDR's precision), the interval logs added interval by interval on
 * the schedule's shared time grid, and the thresholds judged again on the merged figures.
 */

export interface ShardFile {
  file: string;
  results: LoadResults;
  /** The shard's intervals.hlog beside its results.json, when there is one. */
  log?: string;
}

export class MergeError extends UsageError {}

/** results.json files named, or found under the directories named (a merged file among them is skipped). */
export function findShardFiles(inputs: string[]): ShardFile[] {
  if (inputs.length === 0)
    throw new MergeError("cutover merge: name the shards' results.json files or a directory holding them");
  const files: string[] = [];
  for (const input of inputs) {
    if (!existsSync(input)) throw new MergeError(`${input}: no such file or directory`);
    if (statSync(input).isDirectory()) files.push(...resultsUnder(input, 4));
    else files.push(input);
  }
  const shards: ShardFile[] = [];
  for (const file of files) {
    let results: LoadResults;
    try {
      results = parseLoadResults(JSON.parse(readFileSync(file, "utf8")));
    } catch (err) {
      throw new MergeError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (results.shards) continue; // an earlier merge's output, found under the same directory
    const log = path.join(path.dirname(file), "intervals.hlog");
    shards.push({ file, results, ...(existsSync(log) ? { log: readFileSync(log, "utf8") } : {}) });
  }
  if (shards.length === 0) throw new MergeError(`${inputs.join(", ")}: no shard results.json found`);
  return shards;
}

function resultsUnder(dir: string, depth: number): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const p = path.join(dir, entry.name);
    if (entry.isFile() && entry.name === "results.json") out.push(p);
    else if (entry.isDirectory() && depth > 0) out.push(...resultsUnder(p, depth - 1));
  }
  return out;
}

/** One line and exit 2 for anything that makes the shards not one run. */
export function checkShards(shards: ShardFile[]): ShardFile[] {
  const first = shards[0] as ShardFile;
  for (const s of shards) {
    if (!s.results.shard)
      throw new MergeError(`${s.file} is not a shard's results (it was not run with --shard i/N)`);
    if (s.results.status === "running")
      throw new MergeError(
        `${s.file}: shard ${s.results.shard.index} never finished (status running); rebuild it with cutover report --from-log, then merge`,
      );
  }
  const count = first.results.shard?.count ?? 0;
  const byIndex = new Map<number, ShardFile>();
  for (const s of shards) {
    const shard = s.results.shard;
    if (!shard) continue;
    const diff = identityDifference(first.results.shard?.identity ?? {}, shard.identity, [
      `${first.file} (shard ${first.results.shard?.index})`,
      `${s.file} (shard ${shard.index})`,
    ]);
    if (diff) throw new MergeError(`not one run: ${diff}`);
    const twin = byIndex.get(shard.index);
    if (twin) throw new MergeError(`shard ${shard.index}/${count} appears twice: ${twin.file} and ${s.file}`);
    byIndex.set(shard.index, s);
  }
  const missing = [...Array(count).keys()].filter((i) => !byIndex.has(i));
  if (missing.length > 0)
    throw new MergeError(
      `shard${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${count} missing (found ${[...byIndex.keys()].sort((a, b) => a - b).join(", ")})`,
    );
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, s]) => s);
}

export interface MergeOutput {
  results: LoadResults;
  /** Lines of caveat the merge itself adds (a missing interval log). */
  notes: string[];
}

export function mergeShards(input: ShardFile[], o: { outDir: string; argv: string[] }): MergeOutput {
  const shards = checkShards(input);
  const first = (shards[0] as ShardFile).results;
  const all = shards.map((s) => s.results);
  const notes: string[] = [];

  const counters = emptyCounters();
  const errors: ErrorCounts = {};
  const setupErrors: ErrorCounts = {};
  for (const r of all) {
    if (r.counters) addCounters(counters, r.counters as Counters);
    if (r.errors) addErrors(errors, r.errors);
    if (r.setup) addErrors(setupErrors, r.setup.errors);
  }
  const metrics = mergeMetrics(all);
  const scheduleMs = Math.max(0, ...all.map((r) => r.run?.scheduleMs ?? r.run?.elapsedMs ?? 0));
  const elapsedS = scheduleMs / 1000;
  const startedAt = first.shard?.startAt ?? minIso(all.map((r) => r.run?.startedAt ?? r.startedAt));
  const intervalMs = first.parameters.intervalMs;

  const log = new HdrIntervalLog(path.join(o.outDir, "intervals.hlog"), Date.parse(startedAt), [
    `cutover merge of ${shards.length} shards of ${first.scenario.name}; tags are metrics`,
  ]);
  let intervals: IntervalSummary[];
  try {
    intervals = mergeIntervals(shards, { startedAtMs: Date.parse(startedAt), intervalMs, log, notes });
  } finally {
    log.close();
  }

  const drift = [
    detectDrift(
      "e2e p99 (ms)",
      intervals.map((i) => [i.t, i.e2eP99 || i.ackP99]),
      {
        maxRatio: 1.5,
        skipFirst: 5,
        minPoints: 60,
      },
    ),
    // The SUT is one for all shards and every shard on a local stack sampled it: shard 0's verdicts speak for it.
    ...(first.drift ?? [])
      .filter((d) => d.process !== undefined)
      .map((d) => (d.role === "generator" ? { ...d, process: `${d.process} (shard 0)` } : d)),
  ];
  const thresholdExprs = (first.thresholds ?? []).map((t) => t.expression);
  const thresholds = evaluateThresholds(
    thresholdExprs.map((e) => parseThreshold(e)),
    metrics,
    counterValues(counters, totalErrors(errors), elapsedS, drift.some((d) => d.flagged) ? 1 : 0),
  );
  const messages = counters.sent + counters.delivered + counters.httpRequests;
  const cpuSeconds = all.reduce((a, r) => a + (r.generator?.cpuSeconds ?? 0), 0);
  const failedShard = shards.find((s) => s.results.status === "error");
  const interrupted = all.some((r) => r.status === "interrupted" || r.run?.interrupted);
  const protocolErrors: ErrorCounts = {};
  for (const r of all) addErrors(protocolErrors, r.protocolErrors ?? {});

  const results: LoadResults = {
    ...first,
    status: failedShard
      ? "error"
      : interrupted
        ? "interrupted"
        : thresholds.every((t) => t.ok)
          ? "passed"
          : "failed",
    ...(failedShard
      ? { error: `shard ${failedShard.results.shard?.index}: ${failedShard.results.error ?? "failed"}` }
      : {}),
    startedAt: minIso(all.map((r) => r.startedAt)),
    finishedAt: maxIso(all.map((r) => r.finishedAt ?? r.startedAt)),
    parameters: {
      ...first.parameters,
      workers: all.reduce((a, r) => a + r.parameters.workers, 0),
      argv: o.argv,
    },
    environment: {
      ...first.environment,
      caveats: [
        ...first.environment.caveats,
        `merged from ${shards.length} shards: each shard's users, pairs and groups lived in that shard, so every latency was read on one machine's clock; the shards started at one agreed instant (wall clocks, NTP-close)`,
        ...notes,
      ],
    },
    setup: {
      ms: Math.max(0, ...all.map((r) => r.setup?.ms ?? 0)),
      users: all.reduce((a, r) => a + (r.setup?.users ?? 0), 0),
      groups: all.reduce((a, r) => a + (r.setup?.groups ?? 0), 0),
      errors: setupErrors,
    },
    run: {
      startedAt,
      elapsedMs: Math.max(0, ...all.map((r) => r.run?.elapsedMs ?? 0)),
      scheduleMs,
      expectedOperations: all.reduce((a, r) => a + (r.run?.expectedOperations ?? 0), 0),
      targetRate: round1(all.reduce((a, r) => a + (r.run?.targetRate ?? 0), 0)),
      achievedRate:
        elapsedS > 0 ? round1((counters.sent || counters.httpRequests || counters.iterations) / elapsedS) : 0,
      interrupted,
    },
    counters,
    errors,
    ...(Object.keys(protocolErrors).length > 0 ? { protocolErrors } : {}),
    ...ledgerFigures(counters, "the generators"),
    metrics,
    intervalLog: path.join(o.outDir, "intervals.hlog"),
    intervals,
    thresholds,
    drift,
    ...(first.resources
      ? {
          resources: {
            ...first.resources,
            note: [
              first.resources.note,
              "SUT samples from shard 0 (every shard on one machine samples the same processes)",
            ]
              .filter(Boolean)
              .join("; "),
          },
        }
      : {}),
    generator: {
      cpuSeconds: Math.round(cpuSeconds * 1000) / 1000,
      rssMaxBytes: Math.max(0, ...all.map((r) => r.generator?.rssMaxBytes ?? 0)),
      cpuMsPerThousandMessages:
        messages > 0 ? Math.round(((cpuSeconds * 1e6) / messages) * 1000) / 1000 : null,
    },
    shards: shards.map((s) => shardBooks(s)),
  };
  delete results.shard;
  delete results.partial;
  return { results: loadResultsSchema.parse(results), notes };
}

function shardBooks(s: ShardFile) {
  const r = s.results;
  const c = r.counters;
  return {
    index: r.shard?.index ?? 0,
    status: r.status,
    file: path.resolve(s.file),
    users: r.setup?.users ?? 0,
    expectedOperations: r.run?.expectedOperations ?? 0,
    sent: c?.sent ?? 0,
    expectedDeliveries: c?.expectedDeliveries ?? 0,
    delivered: c?.delivered ?? 0,
    lost: c?.lost ?? 0,
    duplicated: c?.duplicated ?? 0,
    outOfOrder: c?.outOfOrder ?? 0,
    droppedIterations: c?.droppedIterations ?? 0,
    errors: totalErrors(r.errors ?? {}),
    achievedRate: r.run?.achievedRate ?? 0,
    generatorCpuSeconds: r.generator?.cpuSeconds ?? 0,
  };
}

/** Every metric's histograms added over the shards; the phase a metric was measured in is kept. */
function mergeMetrics(all: LoadResults[]): NonNullable<LoadResults["metrics"]> {
  const merged = new Map<string, { h: Histogram; phase: "run" | "setup" }>();
  for (const r of all)
    for (const [name, m] of Object.entries(r.metrics ?? {})) {
      const into = merged.get(name) ?? { h: newHistogram(), phase: m.phase };
      const h = decodeHistogram(m.histogram.data);
      into.h.add(h);
      h.destroy();
      if (m.phase === "run") into.phase = "run";
      merged.set(name, into);
    }
  const out: NonNullable<LoadResults["metrics"]> = {};
  // In the order a single run's file lists them (setup metrics first, as they are measured).
  const order = (name: string) => {
    const i = Object.keys(METRIC_DESCRIPTIONS).indexOf(name);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const byPhase = (p: "run" | "setup") => (p === "setup" ? 0 : 1);
  const sorted = [...merged].sort(
    ([a, x], [b, y]) => byPhase(x.phase) - byPhase(y.phase) || order(a) - order(b) || a.localeCompare(b),
  );
  for (const [name, { h, phase }] of sorted) {
    out[name] = metricResult(name, h, phase);
    h.destroy();
  }
  return out;
}

/**
 * Interval k of every shard covers the same span (all started their schedules at the agreed
 * instant, on the same grid): counts are summed from each shard's per-interval figures, and
 * the percentiles come from the shards' interval logs added together — a p99 of p99s would
 * not be a p99. The merged log is written on the way.
 */
function mergeIntervals(
  shards: ShardFile[],
  o: { startedAtMs: number; intervalMs: number; log: HdrIntervalLog; notes: string[] },
): IntervalSummary[] {
  const slots = new Map<number, Map<string, Histogram>>();
  for (const s of shards) {
    if (!s.log) {
      o.notes.push(
        `shard ${s.results.shard?.index}: no intervals.hlog beside ${s.file}; per-interval percentiles leave it out`,
      );
      continue;
    }
    const contents = readIntervalLog(s.log);
    const runStart = Date.parse(s.results.run?.startedAt ?? s.results.startedAt);
    if (contents.startTimeMs === undefined) continue;
    const phaseOffsetSec = (runStart - contents.startTimeMs) / 1000;
    for (const i of contents.intervals) {
      const index = Math.round(((i.startSec - phaseOffsetSec) * 1000) / o.intervalMs);
      // Warm-up phases sit before the measured one in a shard's log.
      if (index < 0) continue;
      const slot = slots.get(index) ?? new Map<string, Histogram>();
      const into = slot.get(i.tag) ?? newHistogram();
      const h = decodeHistogram(i.encoded);
      into.add(h);
      h.destroy();
      slot.set(i.tag, into);
      slots.set(index, slot);
    }
  }
  const length = Math.max(0, ...shards.map((s) => s.results.intervals?.length ?? 0));
  const out: IntervalSummary[] = [];
  for (let k = 0; k < length; k++) {
    const rows = shards.map((s) => s.results.intervals?.[k]).filter((r) => r !== undefined);
    // Levels, not counts: a shard whose last interval ended earlier still holds what it held then.
    const level = (f: (r: IntervalSummary) => number) =>
      shards.reduce((a, s) => {
        const own = s.results.intervals ?? [];
        const r = own[Math.min(k, own.length - 1)];
        return a + (r ? f(r) : 0);
      }, 0);
    const slot = slots.get(k) ?? new Map<string, Histogram>();
    const sum = (f: (r: IntervalSummary) => number | undefined) => rows.reduce((a, r) => a + (f(r) ?? 0), 0);
    const pct = (tag: string, p: number) => {
      const h = slot.get(tag);
      return h && h.totalCount > 0 ? h.getValueAtPercentile(p) / 1000 : 0;
    };
    const t = rows[0]?.t ?? ((k + 1) * o.intervalMs) / 1000;
    for (const [tag, h] of slot) o.log.write(tag, h, t - o.intervalMs / 1000, t);
    const requests = sum((r) => r.requests);
    out.push({
      t,
      sent: sum((r) => r.sent),
      acked: sum((r) => r.acked),
      delivered: sum((r) => r.delivered),
      errors: sum((r) => r.errors),
      dropped: sum((r) => r.dropped),
      rate: sum((r) => r.rate),
      ackP50: pct("ack", 50),
      ackP99: pct("ack", 99),
      e2eP50: pct("e2e", 50),
      e2eP99: pct("e2e", 99),
      inFlight: level((r) => r.inFlight),
      connected: level((r) => r.connected),
      ...(requests > 0 ? { requests, httpP50: pct("http", 50), httpP99: pct("http", 99) } : {}),
    });
    for (const h of slot.values()) h.destroy();
  }
  return out;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const minIso = (xs: string[]) => new Date(Math.min(...xs.map((x) => Date.parse(x)))).toISOString();
const maxIso = (xs: string[]) => new Date(Math.max(...xs.map((x) => Date.parse(x)))).toISOString();
