import type { LoadResults } from "./results-schema.js";

/**
 * What a report says of a results file rebuilt from a killed run's interval log: that it is
 * partial, from which log, and what could not be recovered — so nobody reads it as a whole run.
 */
export function partialBlock(r: LoadResults): { title: string; text: string } | undefined {
  if (!r.partial) return undefined;
  const p = r.partial;
  return {
    title: "Partial run: rebuilt from the interval log",
    text: [
      `The run was interrupted; this report was rebuilt from ${p.log} (${p.intervals} intervals${p.unreadableLines > 0 ? `, ${p.unreadableLines} unreadable line(s) skipped` : ""}) at ${p.rebuiltAt}.`,
      "Missing:",
      ...p.missing.map((m) => `  - ${m}`),
    ].join("\n"),
  };
}

export const PARTIAL_VERDICT = "partial (interrupted; rebuilt from the interval log)";
