import { mkdirSync } from "node:fs";
import path from "node:path";
import type { CutoverConfig } from "../config/schema.js";
import { emptyCounters } from "../metrics/counters.js";
import { HdrIntervalLog } from "../metrics/hdr-log.js";
import { type ResourceSample, summarizeResources } from "../metrics/proc-sampler.js";
import { type ResourceMonitor, startResourceMonitor } from "../metrics/resource-monitor.js";
import { type LoadResults, loadResultsSchema } from "../report/results-schema.js";
import { describeEnvironment } from "../run/environment.js";
import { writeJsonAtomic } from "../run/results-file.js";
import { bookKindOf, closeServerWindow, openServerWindow } from "../server-metrics/server-side.js";
import { isSharded, NO_SHARD, type Shard, shardLabel } from "../shards/shard.js";
import { shardIdentity } from "../shards/shard-identity.js";
import { openBarrier, type StartBarrier } from "../shards/start-barrier.js";
import { acquireStack, type StackHandle } from "../stack/acquire.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import { runDirLayout } from "../stack/local/layout.js";
import { readState } from "../stack/local/state.js";
import type { ProgressSink } from "../stack/progress.js";
import { CutoverError, EXIT, errorMessage } from "../util/errors.js";
import { cutoverVersion } from "../util/package-root.js";
import type { IntervalSummary } from "./aggregate.js";
import { type CapacityStepResult, findCapacity } from "./capacity-search.js";
import { LoadSession, type PhaseResult, type SetupResult } from "./engine.js";
import { httpContext } from "./http-context.js";
import { HTTP_NOTE, runHttpLoad } from "./http-load.js";
import { driftVerdicts, initialResults, phaseFigures } from "./results.js";
import { type ArmedFaults, type Fault, prepareFaults } from "./run-faults.js";
import type { ResolvedScenario } from "./scenario.js";
import type { HttpScenarioFunction } from "./scenario-contract.js";
import type { LoadSettings } from "./settings.js";
import type { Threshold } from "./thresholds.js";
import { warmUp } from "./warmup.js";

/**
 * One load run as a library call: acquire the stack, set the users up, warm, measure (one
 * phase, or a capacity search), write results.json and the interval log as it goes. The CLI,
 * `compare`, bench and tests call this; what it tells a person goes through `events`.
 */
export interface RunLoadOptions {
  scenario: ResolvedScenario;
  settings: LoadSettings;
  stack: { config: CutoverConfig; runDir: string };
  /** Where results.json and intervals.hlog are written. */
  outDir: string;
  faults?: Fault[];
  /** Unmeasured low-rate phases before measuring: "auto" warms only a stack this run started. */
  warmup?: "auto" | number;
  capacity?: CapacityOptions;
  /** Leave a stack this run started up afterwards. */
  keep?: boolean;
  events?: LoadEvents;
  /** This process's part of a run split over several; its schedule starts at the barrier's instant. */
  shard?: Shard;
  barrier?: { url: string; timeoutMs: number };
  /** Every latency sample also written as text files in this directory (audits of the percentiles). */
  rawSamplesDir?: string;
}

export interface CapacityOptions {
  slo: Threshold[];
  startRate: number;
  maxRate: number;
  stepMs: number;
}

/** What a run tells whoever watches it; every member is optional. */
export interface LoadEvents {
  stackProgress?: ProgressSink;
  /** A line worth showing: "ok" a step done, "warn" something to notice, "info" where things are. */
  note?: (kind: "ok" | "warn" | "bad" | "info", text: string) => void;
  interval?: (s: IntervalSummary, label?: string) => void;
  /** A phase's intervals are over (the live line can end). */
  phaseEnd?: () => void;
  capacityStep?: (step: CapacityStepResult) => void;
  /** Each resource sample of the SUT's processes as it is kept (local stacks on Linux only). */
  sut?: (sample: ResourceSample) => void;
}

export interface LoadOutcome {
  results: LoadResults;
  file: string;
  /** 0 thresholds held, 99 crossed, 130 interrupted. */
  exitCode: number;
}

export interface LoadRun {
  done: Promise<LoadOutcome>;
  /**
   * First call: stop scheduling, finish the books, write the results ("graceful"). Second:
   * results marked interrupted and written now; the caller may exit at once ("hard").
   */
  interrupt(): "graceful" | "hard";
}

/** Auto warm-up on a stack the run started: a cold OpenIM loses its first pushes. */
const AUTO_WARMUP_MS = 60_000;

export function startLoad(o: RunLoadOptions): LoadRun {
  const events = o.events ?? {};
  const note = events.note ?? (() => {});
  const startedAt = new Date();
  mkdirSync(o.outDir, { recursive: true });
  const file = path.join(o.outDir, "results.json");
  const hlogFile = path.join(o.outDir, "intervals.hlog");
  const results: LoadResults = initialResults({
    scenario: o.scenario,
    settings: o.settings,
    stack: o.stack.config.stack.kind,
    runDir: o.stack.runDir,
    startedAt,
    intervalLog: hlogFile,
  });
  const shard = o.shard ?? NO_SHARD;
  if (isSharded(shard))
    results.shard = {
      index: shard.index,
      count: shard.count,
      identity: shardIdentity(results, {
        cutoverVersion: cutoverVersion(),
        count: shard.count,
        thresholds: o.settings.thresholds.map((t) => t.expression),
      }),
    };
  const save = () => writeJsonAtomic(file, results);
  save();
  note("info", `results: ${file}`);

  let interrupts = 0;
  let session: LoadSession | undefined;
  let barrier: StartBarrier | undefined;
  /** Once the shards are released, this one's absence is its own business; before, the others wait for it. */
  let released = false;
  /** Once measuring, an interrupt finishes the books; before, there is nothing to finish. */
  let measuring = false;
  const stopped = () => interrupts > 0;

  const done = (async (): Promise<LoadOutcome> => {
    const { scenario, settings } = o;
    let stack: StackHandle | undefined;
    let monitor: ResourceMonitor | undefined;
    let log: HdrIntervalLog | undefined;
    let armed: ArmedFaults | undefined;
    try {
      // Shard 0 serves the barrier from the start, so shards that come up first find it.
      if (o.barrier && results.shard)
        barrier = await openBarrier({
          url: o.barrier.url,
          shard,
          identity: results.shard.identity,
          timeoutMs: o.barrier.timeoutMs,
          onProgress: (line) => note("info", line),
        });
      stack = await acquireStack(o.stack.config, o.stack.runDir, events.stackProgress ?? (() => {}), {
        keep: o.keep === true,
      });
      const e = stack.endpoints;
      results.target.endpoints = {
        nginx: e.nginx,
        wsURL: e.wsURL,
        openimApi: e.openimApi,
        openimWs: e.openimWs,
      };
      results.environment = describeEnvironment(e);
      save();

      // SUT processes can be sampled only on a local stack (their pids are in the run dir).
      const state = e.stack === "local" ? readState(runDirLayout(o.stack.runDir).state) : undefined;
      const runStartMs = Date.now();
      if (state && process.platform === "linux")
        monitor = startResourceMonitor(
          // Prometheus measures the stack; its TSDB growing over a soak is not the SUT's drift.
          state.processes.filter((p) => p.name !== "prometheus"),
          runStartMs,
          Math.max(1000, settings.intervalMs),
          3600,
          (s) => {
            log?.resources(s);
            events.sut?.(s);
          },
        );
      log = new HdrIntervalLog(hlogFile, runStartMs, [
        `cutover load ${scenario.name} via ${settings.driver.name}; tags are metrics (ack, e2e, e2e_last, login, connect, iteration, schedule_lag)`,
      ]);
      // A fault is one event on the shared stack: shard 0 injects it, the other shards only measure it.
      const faults = shard.index === 0 ? (o.faults ?? []) : [];
      if (faults.length === 0 && (o.faults ?? []).length > 0)
        note("info", `faults are injected by shard 0; ${shardLabel(shard)} only measures them`);
      if (faults.length > 0) {
        armed = await prepareFaults(
          faults,
          e,
          state
            ? {
                processes: state.processes,
                ports: state.ports,
                stateFile: runDirLayout(o.stack.runDir).state,
              }
            : undefined,
        );
        results.parameters.faults = armed.describe;
        for (const d of armed.describe) note("warn", `fault ${d}`);
      }
      const offsetSec = () => (Date.now() - runStartMs) / 1000;
      const onFault = (what: string) => {
        results.faultEvents = [
          ...(results.faultEvents ?? []),
          { t: Math.round(Date.now() - runStartMs) / 1000, what },
        ];
      };

      let phase: PhaseResult;
      let setup: SetupResult;
      if (scenario.http) {
        ({ phase, setup } = await runHttpScenario(scenario.http, armed?.endpoints ?? e, {
          settings,
          log,
          offsetSec,
          events,
          stopped,
          onPlan: (url) => {
            measuring = true;
            results.http = { tool: "autocannon", url, note: HTTP_NOTE };
            results.target.driver = "autocannon";
          },
        }));
      } else {
        session = await LoadSession.open({
          scenario,
          endpoints: armed?.endpoints ?? e,
          driver: settings.driver,
          ...(settings.workers !== undefined ? { workers: settings.workers } : {}),
          users: settings.users,
          topology: settings.topology,
          connectAtSetup: settings.connect === "setup",
          maxInFlightPerUser: settings.maxInFlightPerUser,
          intervalMs: settings.intervalMs,
          onProgress: (line) => note("info", line),
          shard,
          ...(o.rawSamplesDir ? { rawSamplesDir: o.rawSamplesDir } : {}),
        });
        measuring = true;
        setup = session.setup;
        results.parameters.workers = session.workers;
        results.setup = {
          ms: Math.round(setup.ms),
          users: setup.users,
          groups: setup.groups,
          errors: setup.errors,
        };
        const failedSetup = setup.counters.loginErrors + setup.counters.connectErrors;
        note(
          "ok",
          `${setup.users} users ready on ${session.workers} worker(s) in ${(setup.ms / 1000).toFixed(1)}s${failedSetup > 0 ? ` (${failedSetup} failed)` : ""}`,
        );
        const warmupMs =
          (o.warmup ?? "auto") === "auto"
            ? stack.startedHere && settings.connect === "setup"
              ? AUTO_WARMUP_MS
              : 0
            : (o.warmup as number);
        if (warmupMs > 0) {
          const w = await warmUp(session, { maxMs: warmupMs, rate: 5, stopped });
          results.setup.warmup = w;
          note(
            w.settled ? "ok" : "warn",
            `warm-up: ${w.phases} phase(s), ${w.sent} sent, ${w.lost} lost in ${(w.ms / 1000).toFixed(1)}s${w.settled ? "" : " — the stack never delivered everything; measuring anyway"}`,
          );
        }
        let startAtMs: number | undefined;
        if (barrier && results.shard) {
          note("info", `${shardLabel(shard)} ready; waiting at the start barrier for the other shards`);
          startAtMs = await barrier.ready();
          released = true;
          results.shard.startAt = new Date(startAtMs).toISOString();
          note("ok", `all ${shard.count} shards ready; the schedule starts at ${results.shard.startAt}`);
        }
        const books = bookKindOf(settings.driver.name);
        const serverWindow = await openServerWindow(
          e.prometheus,
          o.capacity
            ? "a capacity search has many steps: read the server's metrics per step in Prometheus"
            : isSharded(shard)
              ? "a sharded run: each shard would count every shard's messages; read them in Prometheus over the merged window"
              : books === undefined
                ? `cutover knows no server books for the stack behind driver ${settings.driver.name}`
                : undefined,
          (line) => note("info", line),
        );
        phase = o.capacity
          ? await capacityPhase(session, o.capacity, results, {
              log,
              offsetSec,
              events,
              monitor,
              stopped,
              settings,
            })
          : await measuredPhase(session, settings, armed, {
              log,
              offsetSec,
              events,
              onFault,
              shard,
              ...(startAtMs !== undefined ? { startAtMs } : {}),
            });
        events.phaseEnd?.();
        if (!("unavailable" in serverWindow)) note("info", "reading the server's books from Prometheus");
        results.server = await closeServerWindow(
          serverWindow,
          { ...phase.counters, connected: phase.intervals.at(-1)?.connected ?? 0 },
          books ?? "openim",
          (line) => note("info", line),
        );
        if ("summary" in results.server) note("ok", `server books: ${results.server.summary}`);
      }
      monitor?.stop();
      const drift = driftVerdicts(phase, monitor, scenario.options.drift);
      Object.assign(
        results,
        phaseFigures({ phase, setup, thresholds: o.capacity ? [] : settings.thresholds, drift }),
      );
      results.resources = monitor
        ? {
            intervalMs: monitor.intervalMs,
            samples: monitor.samples,
            summary: summarizeResources(monitor.samples),
          }
        : {
            note: "no local stack state to sample (CPU/RSS of the SUT is sampled for local stacks only)",
            intervalMs: 0,
            samples: [],
            summary: [],
          };
      const failed =
        (results.thresholds ?? []).some((t) => !t.ok) ||
        (o.capacity && results.capacity?.highestRateHeld === null);
      results.status = phase.interrupted || interrupts > 0 ? "interrupted" : failed ? "failed" : "passed";
      results.finishedAt = new Date().toISOString();
      loadResultsSchema.parse(results); // the file must be what its readers expect; fail here rather than there
      save();
      const exitCode = results.status === "interrupted" ? 130 : failed ? EXIT.thresholds : EXIT.ok;
      return { results, file, exitCode };
    } catch (err) {
      events.phaseEnd?.();
      // The other shards are waiting for this one: tell them why it will not come.
      if (barrier && !released) await barrier.abort(errorMessage(err));
      results.status = interrupts > 0 ? "interrupted" : "error";
      results.error = errorMessage(err);
      results.finishedAt = new Date().toISOString();
      save();
      throw err;
    } finally {
      monitor?.stop();
      log?.close();
      await session?.close();
      await armed?.close();
      await barrier?.close();
      if (!o.keep) await stack?.release();
    }
  })();

  return {
    done,
    interrupt() {
      interrupts++;
      // Waiting at the barrier: tell every shard, which also ends this one's wait.
      if (barrier && !released) void barrier.abort("interrupted");
      if (interrupts === 1 && measuring) {
        session?.stop();
        return "graceful";
      }
      results.status = "interrupted";
      results.finishedAt = new Date().toISOString();
      save();
      return "hard";
    },
  };
}

/** Runs a load to the end; for callers with no use for interrupting it (bench, tests, compare). */
export function runLoad(o: RunLoadOptions): Promise<LoadOutcome> {
  return startLoad(o).done;
}

/** The one measured phase; timed faults count from the instant its schedule starts, as every worker sees it. */
async function measuredPhase(
  session: LoadSession,
  settings: LoadSettings,
  armed: ArmedFaults | undefined,
  o: {
    log: HdrIntervalLog;
    offsetSec: () => number;
    events: LoadEvents;
    onFault: (what: string) => void;
    shard: Shard;
    startAtMs?: number;
  },
): Promise<PhaseResult> {
  let disarm: (() => void) | undefined;
  try {
    return await session.runPhase({
      model: settings.model,
      drainMs: settings.drainMs,
      intervalLog: o.log,
      logOffsetSec: o.offsetSec(),
      onInterval: (s) => o.events.interval?.(s),
      onScheduleStart: (atMs) => {
        disarm = armed?.arm(o.onFault, atMs - Date.now());
      },
      ...(isSharded(o.shard) ? { segment: o.shard } : {}),
      ...(o.startAtMs !== undefined ? { startAtMs: o.startAtMs } : {}),
    });
  } finally {
    disarm?.();
  }
}

async function capacityPhase(
  session: LoadSession,
  c: CapacityOptions,
  results: LoadResults,
  o: {
    log: HdrIntervalLog;
    offsetSec: () => number;
    events: LoadEvents;
    monitor: ResourceMonitor | undefined;
    stopped: () => boolean;
    settings: LoadSettings;
  },
): Promise<PhaseResult> {
  o.log.comment(`capacity search; SLO ${c.slo.map((t) => t.expression).join(",")}`);
  const capacity = await findCapacity(session, {
    startRate: c.startRate,
    maxRate: c.maxRate,
    stepDurationMs: c.stepMs,
    drainMs: Math.min(o.settings.drainMs, 5000),
    factor: 1.5,
    refineSteps: 2,
    slo: c.slo,
    phaseHooks: (rate) => {
      o.log.comment(`step: ${rate}/s`);
      return { intervalLog: o.log, logOffsetSec: o.offsetSec() };
    },
    onInterval: (s, rate) => o.events.interval?.(s, `${rate}/s `),
    onStep: (s) => o.events.capacityStep?.(s),
    sutCpu: () => o.monitor?.meanCpuSince(o.offsetSec() - c.stepMs / 1000),
    stopped: o.stopped,
  });
  results.capacity = {
    slo: c.slo.map((t) => t.expression),
    stepDurationMs: c.stepMs,
    highestRateHeld: capacity.highestRateHeld,
    limitedBy: capacity.limitedBy,
    steps: capacity.steps.map(({ phase: _phase, ...step }) => step),
  };
  const shown = capacity.best ?? capacity.steps[capacity.steps.length - 1];
  if (!shown) throw new CutoverError("the capacity search ran no step", EXIT.failures);
  return shown.phase;
}

/** An HTTP scenario: the scenario builds its request, autocannon sends it at the model's rate. */
async function runHttpScenario(
  build: HttpScenarioFunction,
  endpoints: StackEndpoints,
  o: {
    settings: LoadSettings;
    log: HdrIntervalLog;
    offsetSec: () => number;
    events: LoadEvents;
    stopped: () => boolean;
    onPlan: (url: string) => void;
  },
): Promise<{ phase: PhaseResult; setup: SetupResult }> {
  const started = performance.now();
  const ctx = httpContext(endpoints);
  try {
    const plan = await build(ctx);
    o.onPlan(plan.url);
    const setup: SetupResult = {
      users: 0,
      groups: 0,
      workers: 0,
      ms: performance.now() - started,
      counters: emptyCounters(),
      errors: {},
      histograms: new Map(),
    };
    const phase = await runHttpLoad({
      plan,
      model: o.settings.model,
      intervalMs: o.settings.intervalMs,
      intervalLog: o.log,
      logOffsetSec: o.offsetSec(),
      onInterval: (s) => o.events.interval?.(s),
      stopped: o.stopped,
    });
    o.events.phaseEnd?.();
    return { phase, setup };
  } finally {
    await ctx.close();
  }
}
