import path from "node:path";
import { type Counters, type ErrorCounts, PROTOCOL_ERROR_PREFIX } from "../metrics/counters.js";
import { type DriftVerdict, detectDrift } from "../metrics/drift.js";
import { encodeHistogram, type Histogram, summarize } from "../metrics/histogram.js";
import type { ResourceSample } from "../metrics/proc-sampler.js";
import {
  judgeProcessDrift,
  messagesFromIntervals,
  type ProcessDriftOptions,
  processSeries,
} from "../metrics/process-drift.js";
import type { LoadResults, MetricResult } from "../report/results-schema.js";
import { describeEnvironment } from "../run/environment.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import { defaultWorkers, type PhaseResult, type SetupResult } from "./engine.js";
import { type Model, modelDurationMs } from "./model.js";
import type { ResolvedScenario, ScenarioOptions } from "./scenario.js";
import type { LoadSettings } from "./settings.js";
import { counterValues, evaluateThresholds, type Threshold } from "./thresholds.js";

/** What each metric measures, written into every results file so a reader needs no other document. */
export const METRIC_DESCRIPTIONS: Record<string, string> = {
  ack: "send→ack: from the operation's intended start to the server's ack of the send",
  e2e: "end-to-end delivery: from the intended send time to arrival at each recipient",
  e2e_last: "fan-out: from the intended send time to arrival at the last recipient of a message",
  login: "login as the client sees it (gateway: DH exchange + JWT + imToken; direct: token)",
  connect: "realtime channel: TCP + WebSocket upgrade + auth",
  heartbeat: "heartbeat round trip: the client's ping to the server's first pong on an idle channel",
  iteration: "one whole operation of the scenario's function, from its intended start",
  schedule_lag: "generator lateness: from an operation's intended start to when it actually started",
  to_server:
    "stage: from when the client actually sent to the server's own timestamp on the message (OpenIM: sendTime, set in the msg service)",
  server_to_ack: "stage: from the server's timestamp on the message to the ack's arrival at the sender",
  server_to_push:
    "stage: from the server's timestamp on the message to its arrival at each recipient (OpenIM: Kafka, msgtransfer, push, gateway)",
  fanout_spread: "fan-out: from a message's first recipient to its last",
  http: "HTTP request→response (autocannon; measured from the actual send, see http.note)",
};

export function metricResult(name: string, h: Histogram, phase: "run" | "setup"): MetricResult {
  return {
    description: METRIC_DESCRIPTIONS[name] ?? name,
    phase,
    unit: "ms",
    ...summarize(h),
    histogram: {
      encoding: "hdr-compressed-base64",
      unit: "us",
      significantDigits: 3,
      data: encodeHistogram(h),
    },
  };
}

export function metricResults(
  run: Map<string, Histogram>,
  setup?: Map<string, Histogram>,
): Record<string, MetricResult> {
  const out: Record<string, MetricResult> = {};
  for (const [name, h] of setup ?? []) if (h.totalCount > 0) out[name] = metricResult(name, h, "setup");
  // A metric measured during the run supersedes the setup one of the same name.
  for (const [name, h] of run) if (h.totalCount > 0) out[name] = metricResult(name, h, "run");
  return out;
}

export function totalErrors(errors: ErrorCounts): number {
  return Object.values(errors).reduce((a, b) => a + b, 0);
}

/** The `protocol <kind>` errors of the given books, by kind; undefined when there are none. */
export function protocolErrorCounts(...books: ErrorCounts[]): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const errors of books)
    for (const [code, n] of Object.entries(errors))
      if (code.startsWith(PROTOCOL_ERROR_PREFIX)) {
        const kind = code.slice(PROTOCOL_ERROR_PREFIX.length);
        out[kind] = (out[kind] ?? 0) + n;
      }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The delivery books and the dropped operations from counters: what every results file says
 * whoever wrote it (one run, a merge of shards, an import of k6). `whoDropped` finishes the
 * sentence "… could not start N of M scheduled operations".
 */
export function ledgerFigures(
  c: Counters,
  whoDropped: string,
): Pick<LoadResults, "accounting" | "droppedIterations"> {
  return {
    accounting: {
      expected: c.expectedDeliveries,
      delivered: c.delivered,
      lost: c.lost,
      balanced: c.delivered + c.lost === c.expectedDeliveries,
    },
    droppedIterations: {
      count: c.droppedIterations,
      ...(c.droppedIterations > 0
        ? {
            note: `${whoDropped} could not start ${c.droppedIterations} of ${c.scheduled} scheduled operations: the target rate was not offered`,
          }
        : {}),
    },
  };
}

export function modelForResults(model: Model) {
  return model.kind === "closed" ? { ...model, vus: model.vus ?? null } : model;
}

export interface RunFigures {
  phase: PhaseResult;
  setup: SetupResult;
  thresholds: Threshold[];
  drift?: DriftVerdict[];
  resources?: LoadResults["resources"];
}

/** The measured part of a results file, from one phase: counters, books, metrics, thresholds. */
export function phaseFigures(f: RunFigures): Partial<LoadResults> {
  const { phase, setup } = f;
  const c = phase.counters;
  const elapsedS = phase.scheduleMs / 1000;
  const errors = totalErrors(phase.errors);
  const metrics = metricResults(phase.histograms, setup.histograms);
  const driftFlagged = (f.drift ?? []).some((d) => d.flagged) ? 1 : 0;
  const thresholds = evaluateThresholds(
    f.thresholds,
    metrics,
    counterValues(c, errors, elapsedS, driftFlagged),
  );
  const messages = c.sent + c.delivered + c.httpRequests;
  const protocolErrors = protocolErrorCounts(setup.errors, phase.errors);
  return {
    run: {
      startedAt: phase.startedAt.toISOString(),
      elapsedMs: Math.round(phase.elapsedMs),
      scheduleMs: Math.round(phase.scheduleMs),
      expectedOperations: phase.expectedOperations,
      targetRate:
        phase.model.kind === "open"
          ? Math.round((phase.expectedOperations / (modelDurationMs(phase.model) / 1000)) * 10) / 10
          : 0,
      achievedRate:
        elapsedS > 0 ? Math.round(((c.sent || c.httpRequests || c.iterations) / elapsedS) * 10) / 10 : 0,
      interrupted: phase.interrupted,
    },
    counters: c,
    errors: phase.errors,
    ...(protocolErrors ? { protocolErrors } : {}),
    ...ledgerFigures(c, "the generator (every user had maxInFlightPerUser operations in flight)"),
    metrics,
    intervals: phase.intervals,
    thresholds,
    ...(f.drift ? { drift: f.drift } : {}),
    generator: {
      cpuSeconds: Math.round(phase.generator.cpuSeconds * 1000) / 1000,
      rssMaxBytes: phase.generator.rssMaxBytes,
      cpuMsPerThousandMessages:
        messages > 0
          ? Math.round(((phase.generator.cpuSeconds * 1000) / messages) * 1000 * 1000) / 1000
          : null,
    },
  };
}

/** What the results file holds before anything was measured: what was asked, of what, where. */
export function initialResults(o: {
  scenario: ResolvedScenario;
  settings: LoadSettings;
  stack: LoadResults["target"]["stack"];
  runDir: string;
  startedAt: Date;
  intervalLog: string;
}): LoadResults {
  const { scenario, settings } = o;
  return {
    kind: "cutover-load",
    schemaVersion: 1,
    status: "running",
    startedAt: o.startedAt.toISOString(),
    scenario: {
      name: scenario.name,
      ...(scenario.file ? { file: scenario.file } : {}),
      ...(scenario.options.description ? { description: scenario.options.description } : {}),
    },
    target: {
      stack: o.stack,
      driver: settings.driver.name,
      endpoints: { nginx: "", wsURL: "", openimApi: "", openimWs: "" },
      runDir: path.resolve(o.runDir),
    },
    parameters: {
      model: modelForResults(settings.model),
      users: settings.users,
      topology: settings.topology,
      connect: settings.connect,
      workers: settings.workers ?? defaultWorkers(),
      maxInFlightPerUser: settings.maxInFlightPerUser,
      drainMs: settings.drainMs,
      intervalMs: settings.intervalMs,
      faults: [],
      argv: process.argv.slice(2),
    },
    // Until the stack is up only the host is known; describeEnvironment reads nothing but stack and parts.
    environment: describeEnvironment({ stack: o.stack, parts: [] } as Pick<
      StackEndpoints,
      "stack" | "parts"
    > as StackEndpoints),
    intervalLog: o.intervalLog,
  };
}

/** A trend needs a run long enough to have one: under a minute of intervals, drift is not judged. */
const DRIFT_MIN_POINTS = 60;

/**
 * e2e p99 per interval (ack p99 where nothing is delivered), fitted over the run, and every
 * sampled process judged on its own (metrics/process-drift.ts): a data store against the
 * messages written, a service and the generator as leak suspects. The SUT's memory as a
 * whole is no longer judged: it would blame OpenIM for the MongoDB stand-in holding data.
 */
export function driftVerdicts(
  phase: PhaseResult,
  monitor: { samples: ResourceSample[]; startedAtMs: number } | undefined,
  o: ScenarioOptions["drift"],
): DriftVerdict[] {
  const skipFirst = o?.skipFirst ?? 5;
  const verdicts: DriftVerdict[] = [
    detectDrift(
      "e2e p99 (ms)",
      phase.intervals.map((i) => [i.t, i.e2eP99 || i.ackP99]),
      { maxRatio: o?.e2eP99MaxRatio ?? 1.5, skipFirst, minPoints: DRIFT_MIN_POINTS },
    ),
  ];
  if (monitor) {
    const phaseStartSec = (phase.startedAt.getTime() - monitor.startedAtMs) / 1000;
    // From the measured phase on: memory taken by the users set up before it (15,000 sockets
    // held) is what was asked for, not growth to judge.
    verdicts.push(
      ...judgeProcessDrift(
        processSeries(monitor.samples.filter((s) => s.t >= phaseStartSec)),
        messagesFromIntervals(phase.intervals, phaseStartSec),
        processDriftOptions(o, skipFirst),
      ),
    );
  }
  return verdicts;
}

/** The scenario's drift options as the per-process judge takes them. */
export function processDriftOptions(o: ScenarioOptions["drift"], skipFirst: number): ProcessDriftOptions {
  return {
    rssMaxRatio: o?.rssMaxRatio ?? 1.2,
    ...(o?.rssMinGrowthMB !== undefined ? { rssMinGrowthBytes: o.rssMinGrowthMB * 2 ** 20 } : {}),
    ...(o?.storePerMessageMaxRatio !== undefined
      ? { storePerMessageMaxRatio: o.storePerMessageMaxRatio }
      : {}),
    skipFirst,
    minPoints: DRIFT_MIN_POINTS,
  };
}
