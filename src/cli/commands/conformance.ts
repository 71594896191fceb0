import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import pc from "picocolors";
import { conformanceJunit } from "../../conformance-runner/junit.js";
import { type ConformanceResults, serverErrorCounts } from "../../conformance-runner/results.js";
import { availableSuites, resolveSuites, runSuites } from "../../conformance-runner/run-suites.js";
import { conformanceView } from "../../report/view-model.js";
import { writeReports } from "../../report/write-reports.js";
import { acquireStack } from "../../stack/acquire.js";
import { STACK_KINDS } from "../../stack/stack-kinds.js";
import { EXIT } from "../../util/errors.js";
import { resolveStackOptions, type StackOptions, withStackOptions } from "../options.js";
import { progressPrinter, suiteProgressPrinter } from "../progress-printer.js";

function write(file: string | undefined, text: string): void {
  if (!file) return;
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, text);
  process.stderr.write(`${pc.dim(`wrote ${file}`)}\n`);
}

function printSummary(results: ConformanceResults): void {
  for (const suite of results.suites) {
    const cases = results.cases.filter((c) => c.suite === suite);
    const failed = cases.filter((c) => c.state === "failed");
    const skipped = cases.filter((c) => c.state === "skipped").length;
    const mark = failed.length > 0 ? pc.red("✗") : pc.green("✓");
    process.stdout.write(
      `${mark} ${suite.padEnd(14)} ${cases.length - failed.length - skipped}/${cases.length} passed${skipped ? `, ${skipped} skipped` : ""}\n`,
    );
    for (const c of failed)
      process.stdout.write(
        `    ${pc.red("✗")} ${c.fullName}\n      ${pc.dim((c.error ?? "").split("\n")[0] ?? "")}\n`,
      );
  }
  const errors = serverErrorCounts(results);
  if (errors.total > 0) {
    process.stdout.write(
      `${pc.yellow("!")} the stack logged ${errors.total} errors during the run: ${errors.unexplained} no case explains, ${errors.provoked} provoked by negative cases (see the reports)\n`,
    );
  }
  const { passed, failed, skipped } = results.totals;
  process.stdout.write(
    `${failed === 0 ? pc.green("passed") : pc.red("failed")}: ${passed} passed, ${failed} failed, ${skipped} skipped\n`,
  );
}

export function conformanceCommand(): Command {
  return withStackOptions(new Command("conformance"))
    .description(
      "run the conformance suites against the stack up in the run dir (or one started for the run and stopped after);\n" +
        "exit 0 when every case passes, 1 when any fails, 2 usage/config error, 3 stack failed to start",
    )
    .addOption(new Option("--stack <kind>", "which stack").choices(STACK_KINDS))
    .option("--suite <name...>", `suites to run (default all: ${availableSuites().join(", ")})`)
    .option("--grep <pattern>", "only the cases whose name matches this regular expression")
    .option("--junit <file>", "write JUnit XML")
    .option("--md <file>", "write a Markdown summary")
    .option("--html <file>", "write an HTML report")
    .option("--json <file>", "write cutover's conformance results JSON")
    .option("--verbose", "show each case as it runs")
    .action(
      async (
        opts: StackOptions & {
          suite?: string[];
          grep?: string;
          junit?: string;
          md?: string;
          json?: string;
          html?: string;
          verbose?: boolean;
        },
      ) => {
        const { config, runDir } = await resolveStackOptions(opts);
        const suites = resolveSuites(opts.suite);
        const stack = await acquireStack(config, runDir, progressPrinter());
        let results: ConformanceResults;
        try {
          results = await runSuites({
            endpoints: stack.endpoints,
            runDir: stack.runDir,
            profile: stack.profile,
            ...(stack.profileSet ? { profileSet: stack.profileSet } : {}),
            suites,
            grep: opts.grep,
            verbose: opts.verbose,
            onProgress: opts.verbose ? undefined : suiteProgressPrinter(),
          });
        } finally {
          await stack.release();
        }
        write(opts.json, `${JSON.stringify(results, null, 2)}\n`);
        write(opts.junit, conformanceJunit(results));
        for (const f of writeReports(conformanceView(results), [opts.json ?? "conformance"], {
          html: opts.html,
          md: opts.md,
        })) {
          process.stderr.write(`${pc.dim(`wrote ${f}`)}\n`);
        }
        printSummary(results);
        if (results.totals.failed > 0) process.exitCode = EXIT.failures;
      },
    );
}
