import type { AnyResults } from "./read-results.js";
import { readRunReport, runView } from "./run-view.js";
import { comparisonView, conformanceView, loadView, type ReportView } from "./view-model.js";

/** The report view of any results file cutover writes. */
export function viewOf(results: AnyResults): ReportView {
  if (results.kind === "load") return loadView(results.data);
  if (results.kind === "comparison") return comparisonView(results.data);
  if (results.kind === "run") return runView(readRunReport(results.file, results.data));
  return conformanceView(results.data);
}
