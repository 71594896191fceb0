import { mkdirSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import pc from "picocolors";
import { driversHelp } from "../../drivers/registry.js";
import { findCapacity } from "../../load/capacity-search.js";
import { parseDuration } from "../../load/duration.js";
import { defaultWorkers, LoadSession, type PhaseResult, type SetupResult } from "../../load/engine.js";
import { type ArmedFaults, FaultError, parseFault, prepareFaults } from "../../load/faults.js";
import { httpContext } from "../../load/http-context.js";
import { HTTP_NOTE, type HttpScenarioFunction, runHttpLoad } from "../../load/http-load.js";
import { ModelError, peakRate } from "../../load/model.js";
import { progressLine } from "../../load/progress-line.js";
import { driftVerdicts, initialResults, phaseFigures } from "../../load/results.js";
import { builtinScenarios, loadScenario, ScenarioError } from "../../load/scenario.js";
import {
  type LoadOverrides,
  type LoadSettings,
  resolveSettings,
  SettingsError,
} from "../../load/settings.js";
import { summaryText } from "../../load/summary-text.js";
import { collectThresholds, ThresholdError } from "../../load/thresholds.js";
import { warmUp } from "../../load/warmup.js";
import { emptyCounters } from "../../metrics/counters.js";
import { HdrIntervalLog } from "../../metrics/hdr-log.js";
import { summarizeResources } from "../../metrics/proc-sampler.js";
import { type ResourceMonitor, startResourceMonitor } from "../../metrics/resource-monitor.js";
import { type LoadResults, loadResultsSchema } from "../../report/results-schema.js";
import { describeEnvironment } from "../../run/environment.js";
import { outputLocations } from "../../run/output-locations.js";
import { newResultsDir, writeJsonAtomic } from "../../run/results-file.js";
import { acquireStack, type StackHandle } from "../../stack/acquire.js";
import type { StackEndpoints } from "../../stack/endpoints.js";
import { runDirLayout } from "../../stack/local/layout.js";
import { readState } from "../../stack/local/state.js";
import { CutoverError, EXIT, errorMessage } from "../../util/errors.js";
import { resolveStackOptions, type StackOptions, withStackOptions } from "../options.js";
import { progressPrinter } from "../progress-printer.js";

type LoadFlags = StackOptions &
  LoadOverrides & {
    out?: string;
    keep?: boolean;
    findCapacity?: boolean;
    slo?: string;
    maxRate?: string;
    stepDuration?: string;
    fault?: string[];
    warmup?: string;
  };

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function loadCommand(): Command {
  return withStackOptions(new Command("load"))
    .description(
      "run a load scenario against a stack: an open-model arrival rate (no coordinated omission), delivery\n" +
        "accounting for every message, HDR percentiles; writes results.json and an HdrHistogram interval log",
    )
    .argument("<scenario>", `a scenario from scenarios/ (${builtinScenarios().join(", ")}) or a path to one`)
    .addOption(new Option("--stack <kind>", "which stack to load").choices(["local", "docker", "external"]))
    .option(
      "--driver <name>",
      "how virtual users talk to the stack (default: the scenario's, else openim): a built-in, a driver\n" +
        "named in the config's `drivers`, or a path to a driver module",
    )
    .option("--rate <n>", "operations per second (a ramp is scaled to peak here)")
    .option("--users <n>", "virtual users (formed into pairs or groups)")
    .option("--duration <d>", "how long the schedule runs, e.g. 30s, 5m (a ramp is stretched to it)")
    .option("--ramp <stages>", "ramping arrival rate: RATE:DURATION,… e.g. 50:10s,200:20s,200:1m")
    .option("--closed", "closed model at the same nominal rate, for comparison: it hides a stalling server")
    .option("--think <d>", "closed model: pause after each operation")
    .option("--group-size <n>", "members per group (group scenarios)")
    .option(
      "--threshold <expr>",
      "pass/fail, e.g. 'e2e.p99<200' or 'lost==0' (repeatable); crossed → exit 99",
      collect,
    )
    .option(
      "--drain <d>",
      "after the last send, how long to wait for deliveries before counting the rest lost",
    )
    .option("--workers <n>", `worker threads (default ${defaultWorkers()}, one per core; 0 = this thread)`)
    .option("--interval <d>", "interval of the live line, the interval log and per-interval results", "1s")
    .option(
      "--out <dir>",
      "where results.json and intervals.hlog are written (default results/<time>-load-<scenario>)",
    )
    .option(
      "--fault <spec>",
      "inject into the local stack: latency:5ms (Toxiproxy on OpenIM's ws; openim-direct), reset@10s, stall:1s@10s (SIGSTOP msggateway) (repeatable)",
      collect,
    )
    .option(
      "--warmup <d>",
      "unmeasured low-rate phases until one delivers everything, up to this long (auto: 60s on a stack this command started)",
      "auto",
    )
    .option("--keep", "leave a stack this command started up afterwards")
    .option("--find-capacity", "step the rate up until the SLO breaks; report the highest rate that held")
    .option("--slo <exprs>", "capacity SLO, comma-separated", "e2e.p99<200ms,lost=0")
    .option("--max-rate <n>", "capacity search: never offer more than this", "20000")
    .option("--step-duration <d>", "capacity search: length of each step (default --duration, else 10s)")
    .addHelpText(
      "after",
      `
Drivers:
${driversHelp()}

Examples:
  $ cutover load direct-chat --rate 200 --duration 20s --out out/
  $ cutover load group-fanout --group-size 50 --threshold 'e2e_last.p99<500'
  $ cutover load direct-chat --find-capacity --slo 'e2e.p99<200ms,lost=0'
  $ cutover load direct-chat --closed           # the same rate, closed model: compare the tails

Exit codes: 0 thresholds held, 99 a threshold crossed, 2 usage, 3 stack failed to start.`,
    )
    .action(async (scenarioArg: string, flags: LoadFlags) => {
      process.exitCode = await runLoad(scenarioArg, flags);
    });
}

function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (
      err instanceof SettingsError ||
      err instanceof ModelError ||
      err instanceof ThresholdError ||
      err instanceof FaultError
    )
      throw new CutoverError(err.message, EXIT.usage);
    throw err;
  }
}

async function runLoad(scenarioArg: string, flags: LoadFlags): Promise<number> {
  const scenario = await loadScenario(scenarioArg).catch((err: unknown) => {
    throw err instanceof ScenarioError ? new CutoverError(err.message, EXIT.usage) : err;
  });
  const { config, runDir } = await resolveStackOptions(flags);
  const settings = usage(() => resolveSettings(scenario.options, flags, config.drivers));
  const faults = usage(() => [...(scenario.options.faults ?? []), ...(flags.fault ?? [])].map(parseFault));
  const slo = flags.findCapacity ? usage(() => collectThresholds(undefined, [flags.slo ?? ""])) : [];

  const startedAt = new Date();
  const outDir = flags.out
    ? path.resolve(flags.out)
    : newResultsDir(outputLocations.results, startedAt, `load-${scenario.name}`);
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, "results.json");
  const hlogFile = path.join(outDir, "intervals.hlog");
  const results: LoadResults = initialResults({
    scenario,
    settings,
    stack: config.stack.kind,
    runDir,
    startedAt,
    intervalLog: hlogFile,
  });
  const save = () => writeJsonAtomic(file, results);
  save();
  process.stderr.write(`${pc.dim(`results: ${file}`)}\n`);

  let startedHere = false;
  let stack: StackHandle | undefined;
  let session: LoadSession | undefined;
  let monitor: ResourceMonitor | undefined;
  let log: HdrIntervalLog | undefined;
  let armed: ArmedFaults | undefined;
  let interrupts = 0;
  let httpRunning = false;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1 && (session || httpRunning)) {
      process.stderr.write(
        `\n${pc.yellow("stopping")}: finishing the books and writing results (Ctrl-C again to quit now)\n`,
      );
      session?.stop();
      return;
    }
    results.status = "interrupted";
    results.finishedAt = new Date().toISOString();
    save();
    process.exit(130);
  };
  process.on("SIGINT", onSignal);
  const progress = progressLine();
  try {
    stack = await acquireStack(config, runDir, progressPrinter());
    startedHere = stack.startedHere;
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
    const state = e.stack === "local" ? readState(runDirLayout(runDir).state) : undefined;
    const runStartMs = Date.now();
    if (state && process.platform === "linux") {
      monitor = startResourceMonitor(state.processes, runStartMs, Math.max(1000, settings.intervalMs));
    }
    log = new HdrIntervalLog(hlogFile, runStartMs, [
      `cutover load ${scenario.name} via ${settings.driver.name}; tags are metrics (${"ack, e2e, e2e_last, login, connect, iteration, schedule_lag"})`,
    ]);

    if (faults.length > 0) {
      armed = await prepareFaults(faults, e, state?.processes ?? []);
      results.parameters.faults = armed.describe;
      for (const d of armed.describe) process.stderr.write(`${pc.yellow("fault")} ${d}\n`);
    }
    const faultEvents: Array<{ t: number; what: string }> = [];
    const onFault = (what: string) => {
      faultEvents.push({ t: Math.round(Date.now() - runStartMs) / 1000, what });
      results.faultEvents = faultEvents;
    };

    const offsetSec = () => (Date.now() - runStartMs) / 1000;
    let phase: PhaseResult;
    let setup: SetupResult;
    if (scenario.http) {
      ({ phase, setup } = await runHttpScenario(scenario.http, armed?.endpoints ?? e, {
        settings,
        log,
        offsetSec,
        progress,
        stopped: () => interrupts > 0,
        onPlan: (url) => {
          results.http = { tool: "autocannon", url, note: HTTP_NOTE };
          results.target.driver = "autocannon";
          httpRunning = true;
        },
      }));
      progress.end();
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
        onProgress: (line) => process.stderr.write(`${pc.dim("…")} ${line}\n`),
      });
      setup = session.setup;
      results.parameters.workers = session.workers;
      results.setup = {
        ms: Math.round(setup.ms),
        users: setup.users,
        groups: setup.groups,
        errors: setup.errors,
      };
      process.stderr.write(
        `${pc.green("✓")} ${setup.users} users ready on ${session.workers} worker(s) in ${(setup.ms / 1000).toFixed(1)}s` +
          `${setup.counters.loginErrors + setup.counters.connectErrors > 0 ? pc.red(` (${setup.counters.loginErrors + setup.counters.connectErrors} failed)`) : ""}\n`,
      );
      // Auto: warm a stack this command just started (cold OpenIM loses its first pushes); "0" never.
      const warmupMs =
        flags.warmup === "auto"
          ? startedHere && settings.connect === "setup"
            ? 60_000
            : 0
          : parseDuration(flags.warmup ?? "0");
      if (warmupMs === undefined)
        throw new CutoverError(`--warmup ${flags.warmup}: expected auto, 0 or a duration`, EXIT.usage);
      if (warmupMs > 0) {
        const w = await warmUp(session, { maxMs: warmupMs, rate: 5, stopped: () => interrupts > 0 });
        results.setup.warmup = w;
        process.stderr.write(
          `${w.settled ? pc.green("✓") : pc.yellow("•")} warm-up: ${w.phases} phase(s), ${w.sent} sent, ${w.lost} lost in ${(w.ms / 1000).toFixed(1)}s` +
            `${w.settled ? "" : " — the stack never delivered everything; measuring anyway"}\n`,
        );
      }
      if (flags.findCapacity) {
        const stepMs = parseDuration(flags.stepDuration ?? flags.duration ?? "10s") ?? 10_000;
        log.comment(`capacity search; SLO ${flags.slo}`);
        const capacity = await findCapacity(session, {
          startRate: Number(flags.rate ?? peakRate(settings.model)) || 100,
          maxRate: Number(flags.maxRate) || 20_000,
          stepDurationMs: stepMs,
          drainMs: Math.min(settings.drainMs, 5000),
          factor: 1.5,
          refineSteps: 2,
          slo,
          phaseHooks: (rate) => {
            log?.comment(`step: ${rate}/s`);
            return { intervalLog: log, logOffsetSec: offsetSec() };
          },
          onInterval: (s, rate) => progress.interval(s, `${rate}/s `),
          onStep: (s) => {
            progress.end();
            progress.reset();
            process.stderr.write(
              `${s.held ? pc.green("✓") : pc.red("✗")} ${s.rate}/s: achieved ${s.achievedRate}/s, e2e p99 ${s.e2eP99.toFixed(1)} ms, lost ${s.lost}${s.held ? "" : ` — ${s.failures.join("; ")}`}\n`,
            );
          },
          sutCpu: () => monitor?.meanCpuSince(offsetSec() - stepMs / 1000),
          stopped: () => interrupts > 0,
        });
        results.capacity = {
          slo: slo.map((t) => t.expression),
          stepDurationMs: stepMs,
          highestRateHeld: capacity.highestRateHeld,
          limitedBy: capacity.limitedBy,
          steps: capacity.steps.map(({ phase: _phase, ...step }) => step),
        };
        const last = capacity.steps[capacity.steps.length - 1];
        const shown = capacity.best ?? last;
        if (!shown) throw new CutoverError("the capacity search ran no step", EXIT.failures);
        phase = shown.phase;
      } else {
        // The engine starts the schedule 200 ms after runPhase is called; timed faults count from there.
        const disarm = armed?.arm(onFault, 200);
        phase = await session
          .runPhase({
            model: settings.model,
            drainMs: settings.drainMs,
            intervalLog: log,
            logOffsetSec: offsetSec(),
            onInterval: (s) => progress.interval(s),
          })
          .finally(() => disarm?.());
        progress.end();
      }
    }
    monitor?.stop();
    const drift = driftVerdicts(phase, monitor?.samples, scenario.options.drift);
    Object.assign(
      results,
      phaseFigures({ phase, setup, thresholds: flags.findCapacity ? [] : settings.thresholds, drift }),
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
      (flags.findCapacity && results.capacity?.highestRateHeld === null);
    results.status = phase.interrupted || interrupts > 0 ? "interrupted" : failed ? "failed" : "passed";
    results.finishedAt = new Date().toISOString();
    loadResultsSchema.parse(results); // the file must be what its readers expect; fail here rather than there
    save();
    process.stdout.write(summaryText(results));
    process.stdout.write(`${pc.dim(`results in ${file}`)}\n`);
    if (results.status === "interrupted") return 130;
    return failed ? EXIT.thresholds : EXIT.ok;
  } catch (err) {
    progress.end();
    results.status = interrupts > 0 ? "interrupted" : "error";
    results.error = errorMessage(err);
    results.finishedAt = new Date().toISOString();
    save();
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    monitor?.stop();
    log?.close();
    await session?.close();
    await armed?.close();
    if (!flags.keep) await stack?.release();
  }
}

/** An HTTP scenario: the scenario builds its request, autocannon sends it at the model's rate. */
async function runHttpScenario(
  build: HttpScenarioFunction,
  endpoints: StackEndpoints,
  o: {
    settings: LoadSettings;
    log: HdrIntervalLog;
    offsetSec: () => number;
    progress: ReturnType<typeof progressLine>;
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
      onInterval: (s) => o.progress.interval(s),
      stopped: o.stopped,
    });
    return { phase, setup };
  } finally {
    await ctx.close();
  }
}
