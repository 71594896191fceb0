import { mkdirSync } from "node:fs";
import { Command } from "commander";
import { compareFiles, printComparison } from "../../compare/compare-files.js";
import { comparedMetricUnits, minEffects } from "../../compare/compared-metrics.js";
import { interleavedRuns } from "../../compare/interleaved-runs.js";
import { driversHelp } from "../../drivers/registry.js";
import { readLoadResults } from "../../report/read-results.js";
import { outputLocations } from "../../run/output-locations.js";
import { newResultsDir } from "../../run/results-file.js";
import { parseGateRule } from "../../stats/gate.js";
import { CutoverError, EXIT } from "../../util/errors.js";

function loadArgsOf(flags: CompareFlags): string[] {
  const args: string[] = [];
  for (const [flag, value] of [
    ["--rate", flags.rate],
    ["--duration", flags.duration],
    ["--users", flags.users],
    ["--run-dir", flags.runDir],
    ["--config", flags.config],
  ] as const) {
    if (value) args.push(flag, value);
  }
  return args;
}

interface CompareFlags {
  baseline?: string[];
  candidate?: string[];
  baselineDriver: string;
  candidateDriver: string;
  runs: string;
  rate?: string;
  duration?: string;
  users?: string;
  runDir?: string;
  config?: string;
  failIf?: string[];
  minEffect?: string[];
  out?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Groups positional results files by the driver they ran with: exactly two groups, baseline first as given. */
function splitByDriver(files: string[]): { baseline: string[]; candidate: string[] } {
  const groups = new Map<string, string[]>();
  for (const f of files) {
    const key = readLoadResults(f).target.driver;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  if (groups.size !== 2) {
    throw new CutoverError(
      `results files span ${groups.size} drivers (${[...groups.keys()].join(", ")}); use --baseline … --candidate … to say which is which`,
      EXIT.usage,
    );
  }
  const [baseline = [], candidate = []] = [...groups.values()];
  return { baseline, candidate };
}

export function compareCommand(): Command {
  return new Command("compare")
    .description(
      "compare a baseline and a candidate (default legacy vs openim): run a scenario N times each, interleaved,\n" +
        "or compare existing results files; medians with bootstrap CIs, Mann-Whitney U, a verdict per metric",
    )
    .argument(
      "[scenarioOrFiles...]",
      "a scenario to run, or results.json files to compare without running anything",
    )
    .option("--baseline <files...>", "results files of the baseline")
    .option("--candidate <files...>", "results files of the candidate")
    .option("--baseline-driver <name>", "driver of the baseline when running", "legacy")
    .option("--candidate-driver <name>", "driver of the candidate when running", "openim")
    .option("--runs <n>", "runs per side when running (≥ 4 for the rank test to be able to decide)", "5")
    .option("--rate <n>", "passed to cutover load")
    .option("--duration <d>", "passed to cutover load")
    .option("--users <n>", "passed to cutover load")
    .option("--run-dir <dir>", "the local stack's run dir (passed to cutover load)")
    .option("-c, --config <file>", "config file (passed to cutover load)")
    .option(
      "--fail-if <rule>",
      "release gate, e.g. 'e2e.p99 worse by >10%' (repeatable); crossed → exit 99",
      collect,
    )
    .option(
      "--min-effect <metric=size>",
      "the smallest change that earns a verdict, e.g. 'e2e.p99=10%', 'loss=0.5pp', 'ack.p50=2ms' (repeatable;\n" +
        "defaults: latencies 5%, throughput 1%, achieved 1pp, dropped/loss/errors 0.1pp)",
      collect,
    )
    .option("--out <dir>", "where comparison.json and the reports go (default results/<time>-compare)")
    .addHelpText(
      "after",
      `
Drivers (--baseline-driver, --candidate-driver):
${driversHelp()}

Gate rules (--fail-if, repeatable; a crossed rule exits 99):
  '<metric> worse'              any meaningful regression
  '<metric> worse by >10%'      … beyond 10% of the baseline
  '<metric> worse by >0.1pp'    … beyond 0.1 percentage points (loss, errors, dropped, achieved)
  '<metric> worse by >5ms'      … beyond 5 ms (latencies)
  metrics: e2e.p50 e2e.p99 ack.p50 ack.p99 throughput achieved dropped loss errors

Examples:
  $ cutover compare direct-chat --runs 5 --rate 100 --duration 15s --fail-if 'e2e.p99 worse by >10%'
  $ cutover compare results/*-legacy/results.json results/*-openim/results.json
  $ cutover compare --baseline v1/*.json --candidate v2/*.json`,
    )
    .action(async (positional: string[], flags: CompareFlags) => {
      const gate = (flags.failIf ?? []).map((r) => parseGateRule(r, comparedMetricUnits));
      const minEffect = minEffects(flags.minEffect);
      const outDir = flags.out ?? newResultsDir(outputLocations.results, new Date(), "compare");
      mkdirSync(outDir, { recursive: true });
      let baselineFiles = flags.baseline ?? [];
      let candidateFiles = flags.candidate ?? [];
      let interleaved = false;
      const scenario =
        positional.length === 1 && !positional[0]?.endsWith(".json") ? positional[0] : undefined;
      if (scenario) {
        const runs = Number(flags.runs);
        if (!Number.isInteger(runs) || runs < 1)
          throw new CutoverError(`--runs must be a positive integer, got ${flags.runs}`, EXIT.usage);
        interleaved = true;
        ({ baseline: baselineFiles, candidate: candidateFiles } = await interleavedRuns({
          scenario,
          runs,
          baselineDriver: flags.baselineDriver,
          candidateDriver: flags.candidateDriver,
          outDir,
          loadArgs: loadArgsOf(flags),
        }));
      } else if (positional.length > 0) {
        ({ baseline: baselineFiles, candidate: candidateFiles } = splitByDriver(positional));
      }
      if (baselineFiles.length === 0 || candidateFiles.length === 0) {
        throw new CutoverError(
          "nothing to compare: give a scenario to run, or results files for both sides",
          EXIT.usage,
        );
      }
      const { comparison, file, reports } = compareFiles({
        baselineFiles,
        candidateFiles,
        interleaved,
        gate,
        minEffect,
        outDir,
      });
      printComparison(comparison, file, reports);
      if (comparison.gate.some((g) => g.failed)) process.exitCode = EXIT.thresholds;
    });
}
