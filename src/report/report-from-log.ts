import { mkdirSync } from "node:fs";
import path from "node:path";
import { rebuildFromLog } from "../load/partial-results.js";
import { writeJsonAtomic } from "../run/results-file.js";
import { loadView } from "./view-model.js";
import { type ReportTargets, writeReports } from "./write-reports.js";

/**
 * `cutover report --from-log`: results.partial.json, report.html and report.md from the
 * interval log a killed run left. The results.json beside the log (written at the start) is
 * left as it was: it is the evidence of what the run was asked to do.
 */
export function reportFromLog(logFile: string, o: ReportTargets & { out?: string }): string[] {
  const results = rebuildFromLog(logFile);
  const dir = path.resolve(o.out ?? path.dirname(logFile));
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "results.partial.json");
  writeJsonAtomic(file, results);
  const written = writeReports(loadView(results), [file], {
    html: o.html ?? path.join(dir, "report.html"),
    md: o.md ?? path.join(dir, "report.md"),
  });
  return [file, ...written];
}
