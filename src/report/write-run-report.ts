import path from "node:path";
import { errorMessage } from "../util/errors.js";
import type { RunResults } from "./run-schema.js";
import { readRunReport, runView } from "./run-view.js";
import { writeReports } from "./write-reports.js";

/**
 * index.html and summary.md beside run.json: the one report of a whole run. A report that cannot
 * be built (a step's file unreadable) must not hide the run's own outcome, so it is said and skipped.
 */
export function writeRunReport(runFile: string, run: RunResults): string[] {
  const dir = path.dirname(runFile);
  try {
    return writeReports(runView(readRunReport(runFile, run)), [runFile], {
      html: path.join(dir, "index.html"),
      md: path.join(dir, "summary.md"),
    });
  } catch (err) {
    process.stderr.write(`cutover: could not write the run report: ${errorMessage(err)}\n`);
    return [];
  }
}
