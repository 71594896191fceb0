import { existsSync } from "node:fs";
import path from "node:path";
import pc from "picocolors";
import { buildComparison } from "../report/build-comparison.js";
import type { ComparisonResults } from "../report/comparison-schema.js";
import { readLoadResults } from "../report/read-results.js";
import { comparisonView } from "../report/view-model.js";
import { writeReports } from "../report/write-reports.js";
import { writeJsonAtomic } from "../run/results-file.js";
import type { Bound } from "../stats/effect.js";
import { formatChange, formatP, formatValue } from "../stats/format.js";
import type { GateRule } from "../stats/gate.js";
import { CutoverError, EXIT } from "../util/errors.js";

export interface ComparedFiles {
  comparison: ComparisonResults;
  file: string;
  reports: string[];
}

/** Compares two sets of load results files and writes comparison.json, report.html and report.md in `outDir`. */
export function compareFiles(o: {
  baselineFiles: string[];
  candidateFiles: string[];
  interleaved: boolean;
  gate: GateRule[];
  minEffect?: Readonly<Record<string, Bound>>;
  outDir: string;
}): ComparedFiles {
  for (const f of [...o.baselineFiles, ...o.candidateFiles]) {
    if (!existsSync(f)) throw new CutoverError(`no such results file: ${f}`, EXIT.usage);
  }
  const base = o.baselineFiles.map(readLoadResults);
  const cand = o.candidateFiles.map(readLoadResults);
  const comparison = buildComparison({
    baseline: { label: base[0]?.target.driver ?? "baseline", files: o.baselineFiles, runs: base },
    candidate: { label: cand[0]?.target.driver ?? "candidate", files: o.candidateFiles, runs: cand },
    interleaved: o.interleaved,
    gate: o.gate,
    minEffect: o.minEffect,
  });
  const file = path.join(o.outDir, "comparison.json");
  writeJsonAtomic(file, comparison);
  const reports = writeReports(comparisonView(comparison), [file], {
    html: path.join(o.outDir, "report.html"),
    md: path.join(o.outDir, "report.md"),
  });
  return { comparison, file, reports };
}

/** The verdict table on a terminal: one line per metric, the sensitivity note, the gate. */
export function printComparison(
  comparison: ComparisonResults,
  file: string,
  reports: string[],
  out: NodeJS.WriteStream = process.stdout,
): void {
  for (const m of comparison.metrics) {
    const color = m.verdict === "better" ? pc.green : m.verdict === "worse" ? pc.red : pc.dim;
    out.write(
      `  ${m.metric.padEnd(12)} ${formatValue(m.unit, m.baseline.median).padStart(10)} → ${formatValue(m.unit, m.candidate.median).padStart(10)}  ${color(`${formatChange(m)} ${m.verdict}`)} (p=${formatP(m.p)})\n`,
    );
  }
  out.write(`${pc.dim(comparison.sensitivity.note)}\n`);
  for (const g of comparison.gate) out.write(`${g.failed ? pc.red("✗") : pc.green("✓")} ${g.detail}\n`);
  out.write(`results: ${file}\nreports: ${reports.join(", ")}\n`);
}
