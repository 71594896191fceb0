import path from "node:path";
import { Command } from "commander";
import pc from "picocolors";
import { readResults } from "../../report/read-results.js";
import { viewOf } from "../../report/view-of.js";
import { writeReports } from "../../report/write-reports.js";
import { CutoverError, EXIT } from "../../util/errors.js";

export function reportCommand(): Command {
  return new Command("report")
    .description(
      "rebuild reports from results files (load, conformance, comparison, or a whole run's run.json), any time,\n" +
        "without running anything",
    )
    .argument("<results...>", "results JSON files written by cutover load / conformance / compare / run")
    .option(
      "--html <file>",
      "self-contained HTML report (default: report.html beside each results file; index.html for run.json)",
    )
    .option("--md <file>", "Markdown summary (for a CI step summary or a PR comment)")
    .action((files: string[], opts: { html?: string; md?: string }) => {
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
