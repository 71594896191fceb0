import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import pc from "picocolors";
import { compareFiles, printComparison } from "../../compare/compare-files.js";
import { comparedMetricUnits, minEffects } from "../../compare/compared-metrics.js";
import { interleavedRuns } from "../../compare/interleaved-runs.js";
import { conformanceJunit } from "../../conformance/junit.js";
import { availableSuites, resolveSuites, runSuites } from "../../conformance/run-suites.js";
import type { RunResults } from "../../report/run-schema.js";
import { conformanceView } from "../../report/view-model.js";
import { writeReports } from "../../report/write-reports.js";
import { writeRunReport } from "../../report/write-run-report.js";
import { describeEnvironment } from "../../run/environment.js";
import { outputLocations } from "../../run/output-locations.js";
import { newResultsDir, writeJsonAtomic } from "../../run/results-file.js";
import { acquireStack } from "../../stack/acquire.js";
import { runDirLayout } from "../../stack/local/layout.js";
import { checkLocalHealth } from "../../stack/local/local-health.js";
import { readState } from "../../stack/local/state.js";
import { parseGateRule } from "../../stats/gate.js";
import { CutoverError, EXIT, errorMessage } from "../../util/errors.js";
import { cutoverVersion } from "../../util/package-root.js";
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
      const gate = (flags.failIf ?? []).map((r) => parseGateRule(r, comparedMetricUnits));
      const minEffect = minEffects(flags.minEffect);
      const { config, runDir } = await resolveStackOptions(flags);
      if (config.stack.kind !== "local")
        throw new CutoverError(
          "cutover run drives the local stack; use conformance/compare for others",
          EXIT.usage,
        );
      const suites = resolveSuites(flags.suite ?? availableSuites().filter((s) => s !== "official-sdk"));
      const runs = Number(flags.runs);
      if (!Number.isInteger(runs) || runs < 1)
        throw new CutoverError(`--runs must be a positive integer, got ${flags.runs}`, EXIT.usage);
      const startedAt = new Date();
      const dir = newResultsDir(flags.out, startedAt, "run");
      const file = path.join(dir, "run.json");
      const results: RunResults = {
        kind: "cutover-run",
        version: 1,
        status: "running",
        startedAt: startedAt.toISOString(),
        argv: ["cutover", ...process.argv.slice(2)],
        cutoverVersion: cutoverVersion(),
      };
      const save = () => writeJsonAtomic(file, results);
      const index = path.join(dir, "index.html");
      save();
      process.stderr.write(`${pc.dim(`results: ${dir}`)}\n`);

      const stack = await acquireStack(config, runDir, progressPrinter());
      const finish = async (status: RunResults["status"], error?: string) => {
        results.status = status;
        results.finishedAt = new Date().toISOString();
        if (error) results.error = error;
        save();
        writeRunReport(file, results);
        if (!flags.keep) await stack.release();
      };
      const onSignal = () => {
        void finish("interrupted").finally(() => process.exit(130));
      };
      process.once("SIGINT", onSignal);
      try {
        results.environment = describeEnvironment(stack.endpoints);
        const state = readState(runDirLayout(runDir).state);
        results.health = state ? await checkLocalHealth(state) : [];
        save();
        const unhealthy = results.health.filter((c) => !c.ok);
        process.stdout.write(
          `${unhealthy.length === 0 ? pc.green("✓") : pc.red("✗")} stack health: ${results.health.length - unhealthy.length}/${results.health.length} checks pass\n`,
        );
        for (const c of unhealthy) process.stdout.write(`    ${pc.red("✗")} ${c.name}: ${c.detail}\n`);

        process.stderr.write(`${pc.dim(`conformance: ${suites.length} suites in parallel…`)}\n`);
        const conformance = await runSuites({
          endpoints: stack.endpoints,
          runDir,
          profile: stack.profile,
          suites,
          onProgress: suiteProgressPrinter(),
        });
        const conformanceFile = path.join(dir, "conformance.json");
        writeJsonAtomic(conformanceFile, conformance);
        writeFileSync(path.join(dir, "conformance.junit.xml"), conformanceJunit(conformance));
        writeReports(conformanceView(conformance), [conformanceFile], {
          html: path.join(dir, "conformance.html"),
          md: path.join(dir, "conformance.md"),
        });
        results.conformance = {
          file: conformanceFile,
          totals: conformance.totals,
          serverErrors: conformance.serverErrors.length,
        };
        save();
        const t = conformance.totals;
        process.stdout.write(
          `${t.failed === 0 ? pc.green("✓") : pc.red("✗")} conformance: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped (${suites.join(", ")})\n`,
        );
        for (const c of conformance.cases.filter((x) => x.state === "failed"))
          process.stdout.write(`    ${pc.red("✗")} ${c.fullName}\n`);

        const compareDir = path.join(dir, "compare");
        mkdirSync(compareDir, { recursive: true });
        const loadArgs = [
          "--rate",
          flags.rate,
          "--duration",
          flags.duration,
          "--users",
          flags.users,
          "--run-dir",
          runDir,
        ];
        if (flags.config) loadArgs.push("--config", flags.config);
        const files = await interleavedRuns({
          scenario: "direct-chat",
          runs,
          baselineDriver: "legacy",
          candidateDriver: "openim",
          outDir: compareDir,
          loadArgs,
        });
        const compared = compareFiles({
          baselineFiles: files.baseline,
          candidateFiles: files.candidate,
          interleaved: true,
          gate,
          minEffect,
          outDir: compareDir,
        });
        process.stdout.write(
          `${pc.bold("legacy → openim")} (direct-chat, ${runs}+${runs} interleaved runs at ${flags.rate}/s):\n`,
        );
        printComparison(compared.comparison, compared.file, compared.reports);
        const gateFailed = compared.comparison.gate.some((g) => g.failed);
        results.comparison = {
          file: compared.file,
          reports: compared.reports,
          verdicts: Object.fromEntries(compared.comparison.metrics.map((m) => [m.metric, m.verdict])),
          gateFailed,
          note: compared.comparison.sensitivity.note,
        };
        const failed = unhealthy.length > 0 || t.failed > 0;
        await finish(failed || gateFailed ? "failed" : "passed");
        const verdict = failed ? pc.red("FAILED") : gateFailed ? pc.red("GATE FAILED") : pc.green("PASSED");
        process.stdout.write(
          `\n${verdict} — conformance ${t.passed}/${t.passed + t.failed}, report: ${shortPath(index)}\n`,
        );
        if (failed) process.exitCode = EXIT.failures;
        else if (gateFailed) process.exitCode = EXIT.thresholds;
      } catch (err) {
        await finish("failed", errorMessage(err));
        throw err;
      } finally {
        process.off("SIGINT", onSignal);
      }
    });
}

/** A path as short as it can be said: relative to here when it is below here. */
function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}
