import { z } from "zod";
import { stackEndpointsSchema } from "../stack/endpoints.js";
import { STACK_KINDS } from "../stack/stack-kinds.js";

/**
 * The results file of `cutover load` — the one source of truth that reports and
 * `cutover compare` read. Versioned: a reader checks `schemaVersion` and refuses what it
 * does not know rather than misreading it. Latencies are milliseconds; the encoded
 * histograms keep microseconds at 3 significant digits, so any percentile can be
 * recomputed, and histograms of several runs merged.
 *
 * Within a version, fields are only ever added, and an added field is optional or has a
 * default, so a reader of version 1 reads every version-1 file written before it.
 */

export const LOAD_RESULTS_KIND = "cutover-load";
export const LOAD_RESULTS_VERSION = 1;

/**
 * Bounds every reader relies on: a negative latency or count is not a measurement, and a file
 * holding one is refused rather than allowed to flip a verdict.
 */
const nonNegative = z.number().nonnegative();
const count = z.number().int().nonnegative();

const rateStageSchema = z.object({ from: z.number(), to: z.number(), durationMs: z.number() });

export const modelSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("open"),
    source: z.enum(["constant-arrival-rate", "ramping-arrival-rate", "closed"]),
    stages: z.array(rateStageSchema),
  }),
  z.object({
    kind: z.literal("closed"),
    vus: z.number().int().nullable(),
    thinkMs: z.number(),
    durationMs: z.number(),
  }),
]);

export const histogramSchema = z.object({
  /** HdrHistogram's compressed form (V2 encoding, deflate, base64), as HistogramLogReader reads it. */
  encoding: z.literal("hdr-compressed-base64"),
  unit: z.literal("us"),
  significantDigits: z.number().int(),
  data: z.string(),
});

export const metricSchema = z.object({
  /** What the metric measures, from where to where. */
  description: z.string(),
  /** "run": recorded while the schedule ran; "setup": logins/connects before the clock started (closed, not rate-driven). */
  phase: z.enum(["run", "setup"]),
  unit: z.literal("ms"),
  count: count,
  min: nonNegative,
  mean: nonNegative,
  stdev: nonNegative,
  p50: nonNegative,
  p90: nonNegative,
  p95: nonNegative,
  p99: nonNegative,
  p99_9: nonNegative,
  max: nonNegative,
  histogram: histogramSchema,
});

export const countersSchema = z.object({
  scheduled: count,
  iterations: count,
  droppedIterations: count,
  failedIterations: count,
  sent: count,
  acked: count,
  sendErrors: count,
  expectedDeliveries: count,
  delivered: count,
  lost: count,
  duplicated: count,
  outOfOrder: count,
  late: count,
  unexpected: count,
  logins: count,
  loginErrors: count,
  connects: count,
  connectErrors: count,
  disconnects: count,
  connectionsDropped: count.default(0),
  httpRequests: count,
  httpErrors: count,
});

export const thresholdOutcomeSchema = z.object({
  expression: z.string(),
  metric: z.string(),
  stat: z.string().optional(),
  op: z.enum(["<", "<=", ">", ">=", "==", "!="]),
  value: z.number(),
  /** null: nothing to compare (e.g. a latency metric with no samples), which fails. */
  actual: z.number().nullable(),
  ok: z.boolean(),
});

export const intervalSchema = z.object({
  t: z.number(),
  sent: count,
  acked: count,
  delivered: count,
  errors: count,
  dropped: count,
  rate: nonNegative,
  ackP50: nonNegative,
  ackP99: nonNegative,
  e2eP50: nonNegative,
  e2eP99: nonNegative,
  inFlight: count,
  connected: count,
  requests: count.optional(),
  httpP50: nonNegative.optional(),
  httpP99: nonNegative.optional(),
});

export const resourceSampleSchema = z.object({
  t: z.number(),
  processes: z.array(
    z.object({ name: z.string(), cpuPercent: z.number(), rssBytes: z.number(), alive: z.boolean() }),
  ),
  totalCpuPercent: z.number(),
  totalRssBytes: z.number(),
  /** The generator (the cutover process itself), apart from the SUT's totals; absent in older files. */
  generator: z.object({ cpuPercent: z.number(), rssBytes: z.number() }).optional(),
});

export const resourcesSchema = z.object({
  /** Why there are none, when there are none (a stack that is not local, no /proc). */
  note: z.string().optional(),
  intervalMs: z.number(),
  samples: z.array(resourceSampleSchema),
  summary: z.array(
    z.object({
      name: z.string(),
      cpuPercentMean: z.number(),
      cpuPercentMax: z.number(),
      rssStartBytes: z.number(),
      rssEndBytes: z.number(),
      rssMaxBytes: z.number(),
    }),
  ),
});

export const driftSchema = z.object({
  series: z.string(),
  points: z.number().int(),
  slopePerHour: z.number(),
  ratio: z.number(),
  flagged: z.boolean(),
  reason: z.string().optional(),
  /** The process a per-process verdict judges (absent in older files and on the e2e verdict). */
  process: z.string().optional(),
  /** store: growth set against messages written; service and generator: growth is a leak suspect. */
  role: z.enum(["store", "service", "generator"]).optional(),
  measure: z.enum(["rss", "cpu-per-message"]).optional(),
  growthBytes: z.number().optional(),
  /** Stores: RSS growth per 1,000 messages written (bytes), over the judged span and each half. */
  perThousandMessages: z
    .object({ whole: z.number(), firstHalf: z.number(), secondHalf: z.number() })
    .optional(),
  /** One line for a person, flagged or not. */
  summary: z.string().optional(),
});

export const capacityStepSchema = z.object({
  rate: z.number(),
  achievedRate: z.number(),
  held: z.boolean(),
  /** Why the step failed: the SLO outcomes that failed, or the generator dropping operations. */
  failures: z.array(z.string()),
  sent: z.number().int(),
  lost: z.number().int(),
  droppedIterations: z.number().int(),
  errors: z.number().int(),
  ackP99: z.number(),
  e2eP50: z.number(),
  e2eP99: z.number(),
  sutCpuPercent: z.number().optional(),
});

export const environmentSchema = z.object({
  stack: stackEndpointsSchema.shape.stack,
  parts: stackEndpointsSchema.shape.parts,
  host: z.object({
    cpus: z.number(),
    cpuModel: z.string(),
    memoryGiB: z.number(),
    platform: z.string(),
    node: z.string(),
  }),
  caveats: z.array(z.string()),
});

/** One shard's books in a merged results file: the totals are their sums. */
export const shardBooksSchema = z.object({
  index: z.number().int(),
  status: z.string(),
  file: z.string(),
  users: count,
  expectedOperations: count,
  sent: count,
  expectedDeliveries: count,
  delivered: count,
  lost: count,
  duplicated: count,
  outOfOrder: count,
  droppedIterations: count,
  errors: count,
  achievedRate: nonNegative,
  generatorCpuSeconds: z.number(),
});

const nullableNumber = z.number().nullable();

/** The server's side of a run, from its own metrics through Prometheus (src/server-metrics). */
export const serverSideSchema = z.object({
  source: z.string(),
  window: z.object({ start: z.string(), end: z.string(), scrapeIntervalSec: z.number() }),
  counters: z.array(z.object({ metric: z.string(), what: z.string(), value: nullableNumber })),
  gatewayPushes: z.array(z.object({ instance: z.string(), value: nullableNumber })),
  reconciliation: z.array(
    z.object({
      stage: z.string(),
      server: nullableNumber,
      clients: z.number(),
      difference: nullableNumber,
      ok: z.boolean(),
      explanation: z.string(),
    }),
  ),
  summary: z.string(),
  onlineUsers: z.object({ server: nullableNumber, clientsConnected: z.number(), note: z.string() }),
  targetsDown: z.array(z.string()),
  resources: z
    .object({
      stepSec: z.number(),
      processes: z.array(
        z.object({
          job: z.string(),
          instance: z.string(),
          rssStartMB: nullableNumber,
          rssEndMB: nullableNumber,
          rssMaxMB: nullableNumber,
          cpuMean: nullableNumber,
          cpuMax: nullableNumber,
          goroutinesMax: nullableNumber,
          gcPerMinute: nullableNumber,
        }),
      ),
      memory: z.array(z.object({ job: z.string(), points: z.array(z.tuple([z.number(), z.number()])) })),
    })
    .optional(),
});
export type ServerSide = z.infer<typeof serverSideSchema>;

export const loadResultsSchema = z.object({
  kind: z.literal(LOAD_RESULTS_KIND),
  schemaVersion: z.literal(LOAD_RESULTS_VERSION),
  status: z.enum(["running", "passed", "failed", "interrupted", "error"]),
  /** Set when status is "error": what stopped the run. */
  error: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  scenario: z.object({ name: z.string(), file: z.string().optional(), description: z.string().optional() }),
  target: z.object({
    stack: z.enum(STACK_KINDS),
    driver: z.string(),
    /** Where the traffic went (never credentials). */
    endpoints: z.object({
      nginx: z.string(),
      wsURL: z.string(),
      openimApi: z.string(),
      openimWs: z.string(),
    }),
    runDir: z.string().optional(),
  }),
  parameters: z.object({
    model: modelSchema,
    users: z.number().int(),
    topology: z.union([
      z.object({ kind: z.literal("pairs") }),
      z.object({ kind: z.literal("groups"), size: z.number().int(), mixed: z.boolean().optional() }),
      z.object({ kind: z.literal("solo") }),
    ]),
    connect: z.enum(["setup", "iteration"]),
    workers: z.number().int(),
    maxInFlightPerUser: z.number().int(),
    drainMs: z.number(),
    intervalMs: z.number(),
    /** Faults injected, as described to people (Toxiproxy toxics, SIGSTOP stalls). */
    faults: z.array(z.string()).default([]),
    /** The command line as given, for rerunning. */
    argv: z.array(z.string()),
  }),
  /** When each fault took effect, in seconds since the run's start. */
  faultEvents: z.array(z.object({ t: z.number(), what: z.string() })).optional(),
  environment: environmentSchema,
  setup: z
    .object({
      ms: z.number(),
      users: z.number().int(),
      groups: z.number().int(),
      errors: z.record(z.string(), z.number()),
      /** Unmeasured phases run before the measurement until the stack delivered everything (cold stacks). */
      warmup: z
        .object({
          phases: z.number().int(),
          ms: z.number(),
          sent: z.number().int(),
          lost: z.number().int(),
          settled: z.boolean(),
        })
        .optional(),
    })
    .optional(),
  /** The measured phase: from the first scheduled operation to the books closing. */
  run: z
    .object({
      startedAt: z.string(),
      /** Schedule + drain. */
      elapsedMs: nonNegative,
      /** How long operations were scheduled: the model's duration, or less when interrupted. */
      scheduleMs: z.number().optional(),
      /** Operations the model called for; compare with counters.scheduled and droppedIterations. */
      expectedOperations: count,
      targetRate: nonNegative,
      achievedRate: nonNegative,
      interrupted: z.boolean(),
    })
    .optional(),
  counters: countersSchema.optional(),
  errors: z.record(z.string(), z.number()).optional(),
  /**
   * What the server sent that broke the wire protocol, by kind (not-json, gzip-bomb, bad-envelope,
   * unknown-reqIdentifier, closed-mid-request…), setup and run together; absent when none.
   */
  protocolErrors: z.record(z.string(), z.number()).optional(),
  /** delivered + lost == expectedDeliveries (= sent × recipients): the books balance. */
  accounting: z
    .object({
      expected: count,
      delivered: count,
      lost: count,
      balanced: z.boolean(),
    })
    .optional(),
  droppedIterations: z.object({ count: count, note: z.string().optional() }).optional(),
  /** ack, e2e, e2e_last, login, connect, iteration, schedule_lag, http — those that have samples. */
  metrics: z.record(z.string(), metricSchema).optional(),
  intervalLog: z.string().optional(),
  intervals: z.array(intervalSchema).optional(),
  thresholds: z.array(thresholdOutcomeSchema).optional(),
  drift: z.array(driftSchema).optional(),
  resources: resourcesSchema.optional(),
  /**
   * The server's books and resources over the measured window, from its Prometheus; or why
   * they are not here (`unavailable`: no Prometheus for this stack, a sharded run, …).
   */
  server: z.union([serverSideSchema, z.object({ unavailable: z.string() })]).optional(),
  generator: z
    .object({
      cpuSeconds: z.number(),
      rssMaxBytes: z.number(),
      /** Generator CPU per 1,000 messages sent and received (sends + deliveries). */
      cpuMsPerThousandMessages: z.number().nullable(),
    })
    .optional(),
  capacity: z
    .object({
      slo: z.array(z.string()),
      stepDurationMs: z.number(),
      highestRateHeld: z.number().nullable(),
      limitedBy: z.enum(["slo", "generator", "max-rate"]).nullable(),
      steps: z.array(capacityStepSchema),
    })
    .optional(),
  http: z
    .object({
      tool: z.literal("autocannon"),
      url: z.string(),
      note: z.string(),
    })
    .optional(),
  /** This file is one shard's part of a run split over processes (`--shard i/N`); `cutover merge` adds them up. */
  shard: z
    .object({
      index: z.number().int(),
      count: z.number().int(),
      /** What every shard of the run agrees on (scenario, options, cutover version), field by field. */
      identity: z.record(z.string(), z.string()),
      /** The instant the shards agreed to start their schedules at. */
      startAt: z.string().optional(),
    })
    .optional(),
  /** Set by `cutover merge`: the shards this file adds up, each with its own books. */
  shards: z.array(shardBooksSchema).optional(),
  /**
   * Set when the file was rebuilt from the interval log of a run that never finished
   * (`cutover report --from-log`): what was read, and what could not be recovered.
   */
  partial: z
    .object({
      source: z.literal("interval-log"),
      log: z.string(),
      rebuiltAt: z.string(),
      intervals: count,
      /** Lines of the log that could not be read (a write cut short by the kill). */
      unreadableLines: count,
      missing: z.array(z.string()),
    })
    .optional(),
});

export type LoadResults = z.infer<typeof loadResultsSchema>;
export type MetricResult = z.infer<typeof metricSchema>;
export type CapacityStep = z.infer<typeof capacityStepSchema>;

/** Reads a results file's JSON, refusing other kinds and versions by name. */
export function parseLoadResults(raw: unknown): LoadResults {
  const head = raw as { kind?: unknown; schemaVersion?: unknown } | null;
  if (head?.kind !== LOAD_RESULTS_KIND)
    throw new Error(`not a cutover load results file (kind ${String(head?.kind)})`);
  if (head.schemaVersion !== LOAD_RESULTS_VERSION)
    throw new Error(
      `load results schemaVersion ${String(head.schemaVersion)}; this cutover reads ${LOAD_RESULTS_VERSION}`,
    );
  return loadResultsSchema.parse(raw);
}
