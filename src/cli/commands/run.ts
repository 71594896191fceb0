import path from "node:path";
import { Command } from "commander";
import pc from "picocolors";
import { printComparison } from "../../compare/compare-files.js";
import { comparedMetricUnits, minEffects } from "../../compare/compared-metrics.js";
import { availableSuites, resolveSuites } from "../../conformance-runner/run-suites.js";
import { type MainJobEvents, startMainJob } from "../../run/main-job.js";
import { outputLocations } from "../../run/output-locations.js";
import { parseGateRule } from "../../stats/gate.js";
import { CutoverError, EXIT } from "../../util/errors.js";
import { resolveStackOptions, type StackOptions, withStackOptions } from "../options.js";
import { progressPrinter, suiteProgressPrinter } from "../progress-printer.js";

interface RunFlags extends StackOptions {
  out: string;
  keep?: boolean;
  runs: string;
  rate: string;
  duration: string;
  users: string;
  suite?: string[];
  failIf?: string[];
  minEffect?: string[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function runCommand(): Command {
  return withStackOptions(new Command("run"))
    .description(
      "the main job: bring the local stack up (OpenIM, gateway, legacy pipeline), check every component, run the\n" +
        "conformance suites on the OpenIM stack, compare legacy vs OpenIM on the message path with interleaved runs,\n" +
        "write the reports, print the verdict, and stop what it started",
    )
    .option(
      "--out <dir>",
      "where the run's folder of results and reports is written",
      outputLocations.results,
    )
    .option("--keep", "leave a stack this run started up afterwards")
    .option("--suite <name...>", "conformance suites to run (default: all but official-sdk)")
    .option("--runs <n>", "comparison runs per stack (≥ 4 for the rank test to be able to decide)", "5")
    .option("--rate <n>", "comparison: messages per second", "40")
    .option("--duration <d>", "comparison: length of each run", "5s")
    .option("--users <n>", "comparison: virtual users", "20")
    .option(
      "--fail-if <rule>",
      "release gate on the comparison, e.g. 'e2e.p99 worse by >25%' (repeatable) → exit 99",
      collect,
    )
    .option(
      "--min-effect <metric=size>",
      "the smallest change that earns a verdict, e.g. 'e2e.p99=10%' (repeatable; see cutover compare --help)",
      collect,
    )
    .action(async (flags: RunFlags) => {
      const { config, runDir } = await resolveStackOptions(flags);
      if (config.stack.kind !== "local")
        throw new CutoverError(
          "cutover run drives the local stack; use conformance/compare for others",
          EXIT.usage,
        );
      const runs = Number(flags.runs);
      if (!Number.isInteger(runs) || runs < 1)
        throw new CutoverError(`--runs must be a positive integer, got ${flags.runs}`, EXIT.usage);
      const job = startMainJob({
        config,
        runDir,
        outRoot: flags.out,
        suites: resolveSuites(flags.suite ?? availableSuites().filter((s) => s !== "official-sdk")),
        comparison: {
          runs,
          rate: flags.rate,
          duration: flags.duration,
          users: flags.users,
          configFile: flags.config,
        },
        gate: (flags.failIf ?? []).map((r) => parseGateRule(r, comparedMetricUnits)),
        minEffect: minEffects(flags.minEffect),
        keep: flags.keep === true,
        argv: ["cutover", ...process.argv.slice(2)],
        events: terminalEvents(runs, flags.rate),
      });
      const onSignal = () => {
        void job.interrupt().finally(() => process.exit(130));
      };
      process.once("SIGINT", onSignal);
      try {
        const { results, index, exitCode } = await job.done;
        const t = results.conformance?.totals ?? { passed: 0, failed: 0, skipped: 0 };
        const verdict =
          exitCode === EXIT.failures
            ? pc.red("FAILED")
            : exitCode === EXIT.thresholds
              ? pc.red("GATE FAILED")
              : pc.green("PASSED");
        process.stdout.write(
          `\n${verdict} — conformance ${t.passed}/${t.passed + t.failed}, report: ${shortPath(index)}\n`,
        );
        process.exitCode = exitCode;
      } finally {
        process.off("SIGINT", onSignal);
      }
    });
}

/** How the main job looks on a terminal. */
function terminalEvents(runs: number, rate: string): MainJobEvents {
  return {
    stackProgress: progressPrinter(),
    started: (dir) => process.stderr.write(`${pc.dim(`results: ${dir}`)}\n`),
    health: (checks) => {
      const bad = checks.filter((c) => !c.ok);
      process.stdout.write(
        `${bad.length === 0 ? pc.green("✓") : pc.red("✗")} stack health: ${checks.length - bad.length}/${checks.length} checks pass\n`,
      );
      for (const c of bad) process.stdout.write(`    ${pc.red("✗")} ${c.name}: ${c.detail}\n`);
    },
    conformanceStarted: (suites) =>
      process.stderr.write(
        `${pc.dim(`conformance: ${suites.length} suite${suites.length === 1 ? "" : "s"}${suites.length > 1 ? " in parallel" : ""}…`)}\n`,
      ),
    suiteProgress: suiteProgressPrinter(),
    conformance: (r) => {
      const t = r.totals;
      process.stdout.write(
        `${t.failed === 0 ? pc.green("✓") : pc.red("✗")} conformance: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped (${r.suites.join(", ")})\n`,
      );
      for (const c of r.cases.filter((x) => x.state === "failed"))
        process.stdout.write(`    ${pc.red("✗")} ${c.fullName}\n`);
    },
    comparison: (c) => {
      process.stdout.write(
        `${pc.bold("legacy → openim")} (direct-chat, ${runs}+${runs} interleaved runs at ${rate}/s):\n`,
      );
      printComparison(c.comparison, c.file, c.reports);
    },
  };
}

/** A path as short as it can be said: relative to here when it is below here. */
function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}
