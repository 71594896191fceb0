import { readFileSync } from "node:fs";
import { type ConformanceResults, conformanceResultsSchema } from "../conformance-runner/results.js";
import { decodeHistogram } from "../metrics/histogram.js";
import { CutoverError, EXIT } from "../util/errors.js";
import { type ComparisonResults, comparisonResultsSchema } from "./comparison-schema.js";
import { type LoadResults, loadResultsSchema } from "./results-schema.js";
import { type RunResults, runResultsSchema } from "./run-schema.js";

export type AnyResults =
  | { kind: "load"; file: string; data: LoadResults }
  | { kind: "conformance"; file: string; data: ConformanceResults }
  | { kind: "comparison"; file: string; data: ComparisonResults }
  | { kind: "run"; file: string; data: RunResults };

/** Reads one results file of any kind cutover writes; a file it cannot read is a usage error naming why. */
export function readResults(file: string): AnyResults {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new CutoverError(`cannot read results ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  const kind = (raw as { kind?: unknown } | null)?.kind;
  const schema =
    kind === "cutover-load"
      ? loadResultsSchema
      : kind === "cutover-conformance"
        ? conformanceResultsSchema
        : kind === "cutover-comparison"
          ? comparisonResultsSchema
          : kind === "cutover-run"
            ? runResultsSchema
            : undefined;
  if (!schema)
    throw new CutoverError(
      `${file} is not a cutover results file (kind ${JSON.stringify(kind)})`,
      EXIT.usage,
    );
  if (kind === "cutover-comparison" && (raw as { version?: unknown }).version === 1)
    throw new CutoverError(
      `${file}: a version-1 comparison (an older cutover); run \`cutover compare\` again on its results files`,
      EXIT.usage,
    );
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CutoverError(
      `${file}: ${issue?.path.join(".") || "(top level)"}: ${issue?.message}`,
      EXIT.usage,
    );
  }
  if (kind === "cutover-load") {
    const data = parsed.data as LoadResults;
    for (const [name, m] of Object.entries(data.metrics ?? {}))
      checkHistogram(file, `metrics.${name}.histogram.data`, m.histogram.data);
    return { kind: "load", file, data };
  }
  if (kind === "cutover-conformance")
    return { kind: "conformance", file, data: parsed.data as ConformanceResults };
  if (kind === "cutover-run") return { kind: "run", file, data: parsed.data as RunResults };
  const data = parsed.data as ComparisonResults;
  for (const side of ["baseline", "candidate"] as const)
    for (const [name, encoded] of Object.entries(data[side].merged))
      checkHistogram(file, `${side}.merged.${name}`, encoded);
  return { kind: "comparison", file, data };
}

/** A histogram that does not decode is refused here, naming the file and field, not deep inside a report. */
function checkHistogram(file: string, field: string, encoded: string): void {
  if (!encoded) return;
  try {
    decodeHistogram(encoded).destroy();
  } catch (err) {
    throw new CutoverError(
      `${file}: ${field}: not an HdrHistogram in compressed base64 (${(err as Error).message})`,
      EXIT.usage,
    );
  }
}

export function readLoadResults(file: string): LoadResults {
  const r = readResults(file);
  if (r.kind !== "load")
    throw new CutoverError(`${file} holds ${r.kind} results, not a load run`, EXIT.usage);
  return r.data;
}
