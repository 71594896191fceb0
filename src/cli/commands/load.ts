import { mkdirSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import pc from "picocolors";
import { driversHelp } from "../../drivers/registry.js";
import type { IntervalSummary } from "../../load/aggregate.js";
import { parseDuration } from "../../load/duration.js";
import { defaultWorkers } from "../../load/engine.js";
import {
  type LiveMetrics,
  parseMetricsListen,
  parsePushUrl,
  startLiveMetrics,
} from "../../load/live-metrics.js";
import {
  type MetricsTargetFile,
  metricsTargetsDir,
  writeMetricsTarget,
} from "../../load/metrics-target-file.js";
import { peakRate } from "../../load/model.js";
import { progressLine } from "../../load/progress-line.js";
import { parseFault } from "../../load/run-faults.js";
import { type LoadEvents, type RunLoadOptions, startLoad } from "../../load/run-load.js";
import { builtinScenarios, loadScenario } from "../../load/scenario.js";
import { type LoadOverrides, resolveSettings } from "../../load/settings.js";
import { summaryText } from "../../load/summary-text.js";
import { collectThresholds } from "../../load/thresholds.js";
import { outputLocations } from "../../run/output-locations.js";
import { newResultsDir } from "../../run/results-file.js";
import { isSharded, resolveShard, shardLabel } from "../../shards/shard.js";
import { parseBarrierURL } from "../../shards/start-barrier.js";
import { stackKindFor } from "../../stack/acquire.js";
import { STACK_KINDS } from "../../stack/stack-kinds.js";
import { CutoverError, EXIT, UsageError } from "../../util/errors.js";
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
    shard?: string;
    barrier?: string;
    barrierTimeout?: string;
    rawSamples?: string;
    metricsPort?: string;
    metricsPush?: string;
  };

const collect = (value: string, previous: string[] = []) => [...previous, value];

const mkdirp = (dir: string) => {
  mkdirSync(dir, { recursive: true });
  return dir;
};

export function loadCommand(): Command {
  return withStackOptions(new Command("load"))
    .description(
      "run a load scenario against a stack: an open-model arrival rate (no coordinated omission), delivery\n" +
        "accounting for every message, HDR percentiles; writes results.json and an HdrHistogram interval log",
    )
    .argument("<scenario>", `a scenario from scenarios/ (${builtinScenarios().join(", ")}) or a path to one`)
    .addOption(new Option("--stack <kind>", "which stack to load").choices(STACK_KINDS))
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
      "--connect <when>",
      "setup: log every user in and connect before the clock starts (a hold of N connections: with\n" +
        "--ramp 0:0s,0:5m); iteration: when the scenario does (default: the scenario's)",
    )
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
      "inject into the local stack: latency:5ms (Toxiproxy on OpenIM's ws; openim-direct), reset@10s, stall:1s@10s (SIGSTOP msggateway), kill:<part>@10s, restart:<part>@10s[+2s], partition:<part>@10s+5s (iptables), reload:nginx@10s — <part> as in `cutover status`, e.g. msgtransfer, redis, kafka (repeatable)",
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
    .option(
      "--shard <i/N>",
      "run part i (from 0) of a run split over N processes or machines: its own users, every N-th\n" +
        "operation of the schedule (default: JOB_COMPLETION_INDEX/JOB_COMPLETIONS, as an Indexed Job sets them)",
    )
    .option(
      "--barrier <url>",
      "with --shard: shard 0 serves a start barrier at this URL and every shard waits there until all are\n" +
        "ready, then all start at one instant (default: $CUTOVER_BARRIER), e.g. http://127.0.0.1:7070",
    )
    .option("--barrier-timeout <d>", "with --shard: how long to wait for every shard to be ready", "15m")
    .option(
      "--raw-samples <dir>",
      "also write every latency sample (µs, one per line, a file per metric and worker) here: an audit\n" +
        "trail for the percentiles, as k6's --out json is; large at high rates",
    )
    .option(
      "--metrics-port <port>",
      "serve live metrics (Prometheus text) at http://127.0.0.1:PORT/metrics while the run goes: 0 = a free port, HOST:PORT to be scraped from elsewhere (default: a free port when the local stack runs Prometheus)",
    )
    .option(
      "--metrics-push <url>",
      "push live metrics to this Pushgateway every interval and at the end (job cutover, grouped by run)",
    )
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
  $ cutover load soak --metrics-port 9464        # watch it in Prometheus/Grafana (dashboards/)
  $ cutover load direct-chat --rate 900 --shard 1/3 --barrier http://10.0.0.5:7070 --out out/shard-1
                                                # one of three generators; then: cutover merge out/

Exit codes: 0 thresholds held, 99 a threshold crossed, 2 usage, 3 stack failed to start.`,
    )
    .action(async (scenarioArg: string, flags: LoadFlags) => {
      process.exitCode = await runLoadCommand(scenarioArg, flags);
    });
}

/** Flags → the library's options; nothing runs until every flag has been checked. */
async function loadOptions(scenarioArg: string, flags: LoadFlags): Promise<RunLoadOptions> {
  const scenario = await loadScenario(scenarioArg);
  const { config, runDir } = await resolveStackOptions(flags);
  const settings = resolveSettings(scenario.options, flags, config.drivers);
  const faults = [...(scenario.options.faults ?? []), ...(flags.fault ?? [])].map(parseFault);
  const warmup = flags.warmup === "auto" || flags.warmup === undefined ? "auto" : parseDuration(flags.warmup);
  if (warmup === undefined)
    throw new CutoverError(`--warmup ${flags.warmup}: expected auto, 0 or a duration`, EXIT.usage);
  const capacity = flags.findCapacity
    ? {
        slo: collectThresholds(undefined, [flags.slo ?? ""]),
        startRate: Number(flags.rate ?? peakRate(settings.model)) || 100,
        maxRate: Number(flags.maxRate) || 20_000,
        stepMs: parseDuration(flags.stepDuration ?? flags.duration ?? "10s") ?? 10_000,
      }
    : undefined;
  const shard = resolveShard(flags.shard);
  const barrierUrl = flags.barrier ?? process.env.CUTOVER_BARRIER;
  if (isSharded(shard)) {
    if (scenario.http)
      throw new UsageError(
        `${scenario.name} is an HTTP scenario (autocannon): it runs in one process, not in shards`,
      );
    if (capacity) throw new UsageError("--find-capacity runs in one process; it cannot be split into shards");
    if (!barrierUrl)
      throw new UsageError(
        `${shardLabel(shard)} needs --barrier <url> (or CUTOVER_BARRIER): shard 0 serves it, e.g. http://127.0.0.1:7070`,
      );
  }
  if (barrierUrl) parseBarrierURL(barrierUrl);
  if (flags.metricsPort !== undefined) parseMetricsListen(flags.metricsPort);
  if (flags.metricsPush !== undefined) parsePushUrl(flags.metricsPush);
  const barrierTimeoutMs = parseDuration(flags.barrierTimeout ?? "15m");
  if (barrierTimeoutMs === undefined || barrierTimeoutMs <= 0)
    throw new UsageError(`--barrier-timeout ${flags.barrierTimeout}: expected a duration such as 10m`);
  return {
    scenario,
    settings,
    stack: { config, runDir },
    outDir: flags.out
      ? path.resolve(flags.out)
      : newResultsDir(outputLocations.results, new Date(), `load-${scenario.name}`),
    faults,
    warmup,
    ...(capacity ? { capacity } : {}),
    keep: flags.keep === true,
    ...(flags.rawSamples ? { rawSamplesDir: mkdirp(path.resolve(flags.rawSamples)) } : {}),
    ...(isSharded(shard)
      ? { shard, barrier: { url: barrierUrl as string, timeoutMs: barrierTimeoutMs } }
      : {}),
  };
}

/** How a run looks on a terminal: step lines on stderr, the live line, the summary on stdout. */
function terminalEvents(totalSec: number | undefined, live: LiveWatch | undefined): LoadEvents {
  const progress = progressLine(process.stderr, totalSec === undefined ? {} : { totalSec });
  const mark = { ok: pc.green("✓"), warn: pc.yellow("•"), bad: pc.red("✗"), info: pc.dim("…") } as const;
  return {
    stackProgress: progressPrinter(),
    note: (kind, text) =>
      process.stderr.write(kind === "info" ? `${pc.dim(text)}\n` : `${mark[kind]} ${text}\n`),
    interval: (s, label) => {
      live?.interval(s);
      progress.interval(s, label);
    },
    sut: (sample) => {
      live?.metrics.sut(sample);
      progress.sut(sample);
    },
    phaseEnd: () => progress.end(),
    capacityStep: (s) => {
      progress.end();
      progress.reset();
      process.stderr.write(
        `${s.held ? pc.green("✓") : pc.red("✗")} ${s.rate}/s: achieved ${s.achievedRate}/s, e2e p99 ${s.e2eP99.toFixed(1)} ms, lost ${s.lost}${s.held ? "" : ` — ${s.failures.join("; ")}`}\n`,
      );
    },
  };
}

async function runLoadCommand(scenarioArg: string, flags: LoadFlags): Promise<number> {
  const options = await loadOptions(scenarioArg, flags);
  const model = options.settings.model;
  const totalMs =
    options.capacity !== undefined
      ? undefined
      : model.kind === "closed"
        ? model.durationMs
        : model.stages.reduce((a, s) => a + s.durationMs, 0);
  const live = await watchLive(options, flags);
  const run = startLoad({
    ...options,
    events: terminalEvents(totalMs === undefined ? undefined : totalMs / 1000, live),
  });
  const onSignal = () => {
    if (run.interrupt() === "hard") process.exit(130);
    process.stderr.write(
      `\n${pc.yellow("stopping")}: finishing the books and writing results (Ctrl-C again to quit now)\n`,
    );
  };
  process.on("SIGINT", onSignal);
  try {
    const { results, file, exitCode } = await run.done;
    process.stdout.write(summaryText(results));
    process.stdout.write(`${pc.dim(`results in ${file}`)}\n`);
    return exitCode;
  } finally {
    process.off("SIGINT", onSignal);
    await live?.close();
  }
}

/** The run's live metrics: served and/or pushed as the flags say, and scraped by a local stack's Prometheus. */
interface LiveWatch {
  metrics: LiveMetrics;
  interval(s: IntervalSummary): void;
  close(): Promise<void>;
}

async function watchLive(options: RunLoadOptions, flags: LoadFlags): Promise<LiveWatch | undefined> {
  const { config, runDir } = options.stack;
  // Only a local stack's Prometheus runs on this machine and can scrape 127.0.0.1.
  const local = stackKindFor(config, runDir) === "local";
  if (flags.metricsPort === undefined && flags.metricsPush === undefined && !local) return undefined;
  const say = (text: string) => process.stderr.write(`${pc.dim(text)}\n`);
  const metrics = await startLiveMetrics({
    scenario: options.scenario.name,
    run: path.basename(options.outDir),
    ...(options.shard && isSharded(options.shard)
      ? { shard: `${options.shard.index}/${options.shard.count}` }
      : {}),
    ...(flags.metricsPort !== undefined ? { listen: parseMetricsListen(flags.metricsPort) } : {}),
    ...(flags.metricsPush !== undefined ? { pushUrl: parsePushUrl(flags.metricsPush) } : {}),
    onPushError: (text) => process.stderr.write(`${pc.yellow("•")} ${text}\n`),
  });
  if (metrics.url) say(`metrics: ${metrics.url}`);
  if (flags.metricsPush !== undefined) say(`metrics: pushed to ${flags.metricsPush} (job cutover)`);
  let target: MetricsTargetFile | undefined;
  const offerToPrometheus = async () => {
    const dir = local ? metricsTargetsDir(runDir) : undefined;
    if (!dir) return;
    const url = metrics.url ?? (await metrics.serve({ host: "127.0.0.1", port: 0 }));
    if (flags.metricsPort === undefined) say(`metrics: ${url} (scraped by the stack's Prometheus)`);
    target = writeMetricsTarget(dir, metrics.port as number);
  };
  await offerToPrometheus();
  // A stack this command starts has no targets folder until it is up: look again at the first interval.
  let again: Promise<void> | undefined;
  let lookAgain = target === undefined;
  return {
    metrics,
    interval(s) {
      metrics.interval(s);
      if (!lookAgain) return;
      lookAgain = false;
      again = offerToPrometheus().catch((err: unknown) => {
        process.stderr.write(
          `${pc.yellow("•")} metrics not offered to the stack's Prometheus: ${String(err)}\n`,
        );
      });
    },
    async close() {
      lookAgain = false;
      await again;
      target?.remove();
      await metrics.close();
    },
  };
}
