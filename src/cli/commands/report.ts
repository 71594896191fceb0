import path from "node:path";
import { Command } from "commander";
import pc from "picocolors";
import { readResults } from "../../report/read-results.js";
import { reportFromLog } from "../../report/report-from-log.js";
import { viewOf } from "../../report/view-of.js";
import { writeReports } from "../../report/write-reports.js";
import { CutoverError, EXIT } from "../../util/errors.js";

export function reportCommand(): Command {
  return new Command("report")
    .description(
      "rebuild reports from results files (load, conformance, comparison, or a whole run's run.json), any time,\n" +
        "without running anything",
    )
    .argument("[results...]", "results JSON files written by cutover load / conformance / compare / run")
    .option(
      "--from-log <intervals.hlog>",
      "rebuild the results and report of a load run that was killed from its interval log (marked partial)",
    )
    .option(
      "--out <dir>",
      "--from-log: where results.partial.json and the reports go (default: beside the log)",
    )
    .option(
      "--html <file>",
      "self-contained HTML report (default: report.html beside each results file; index.html for run.json)",
    )
    .option("--md <file>", "Markdown summary (for a CI step summary or a PR comment)")
    .action((files: string[], opts: { html?: string; md?: string; fromLog?: string; out?: string }) => {
      if (opts.fromLog) {
        if (files.length > 0)
          throw new CutoverError(
            "--from-log rebuilds one run from its log; give no results files with it",
            EXIT.usage,
          );
        for (const w of reportFromLog(opts.fromLog, opts)) process.stdout.write(`${pc.green("✓")} ${w}\n`);
        return;
      }
      if (opts.out)
        throw new CutoverError("--out goes with --from-log; use --html/--md for results files", EXIT.usage);
      if (files.length === 0)
        throw new CutoverError(
          "give a results file to report on, or --from-log <intervals.hlog>",
          EXIT.usage,
        );
      if (files.length > 1 && (opts.html || opts.md)) {
        throw new CutoverError(
          "--html/--md name one file; give one results file, or none of them to write report.html beside each",
          EXIT.usage,
        );
      }
      for (const file of files) {
        const results = readResults(file);
        const targets =
          opts.html || opts.md
            ? opts
            : results.kind === "run"
              ? {
                  html: path.join(path.dirname(file), "index.html"),
                  md: path.join(path.dirname(file), "summary.md"),
                }
              : {
                  html: path.join(path.dirname(file), "report.html"),
                  md: path.join(path.dirname(file), "report.md"),
                };
        const written = writeReports(viewOf(results), [file], targets);
        for (const w of written) process.stdout.write(`${pc.green("✓")} ${w}\n`);
      }
    });
}
