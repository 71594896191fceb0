import { readFileSync } from "node:fs";
import { type ConformanceResults, conformanceResultsSchema } from "../conformance/results.js";
import { CutoverError, EXIT } from "../util/errors.js";
import { type ComparisonResults, comparisonResultsSchema } from "./comparison-schema.js";
import { type LoadResults, loadResultsSchema } from "./results-schema.js";

export type AnyResults =
  | { kind: "load"; file: string; data: LoadResults }
  | { kind: "conformance"; file: string; data: ConformanceResults }
  | { kind: "comparison"; file: string; data: ComparisonResults };

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
          : undefined;
  if (!schema)
    throw new CutoverError(
      `${file} is not a cutover results file (kind ${JSON.stringify(kind)})`,
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
  if (kind === "cutover-load") return { kind: "load", file, data: parsed.data as LoadResults };
  if (kind === "cutover-conformance")
    return { kind: "conformance", file, data: parsed.data as ConformanceResults };
  return { kind: "comparison", file, data: parsed.data as ComparisonResults };
}

export function readLoadResults(file: string): LoadResults {
  const r = readResults(file);
  if (r.kind !== "load")
    throw new CutoverError(`${file} holds ${r.kind} results, not a load run`, EXIT.usage);
  return r.data;
}
