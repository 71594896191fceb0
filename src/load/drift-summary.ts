import type { LoadResults } from "../report/results-schema.js";

type Drift = NonNullable<LoadResults["drift"]>[number];

/**
 * The drift lines after a run: every flagged verdict with its reason, each data store's growth
 * per message, the generator's own figures, and the services in one line (naming the one that
 * grew most) — twenty "ok" lines would hide the one that matters.
 */
export function driftSummaryLines(drift: Drift[]): Array<{ text: string; flagged: boolean }> {
  const lines: Array<{ text: string; flagged: boolean }> = [];
  for (const d of drift) {
    if (d.flagged) lines.push({ text: `drift: ${d.reason ?? d.summary ?? d.series}`, flagged: true });
    else if (d.summary && d.role !== "service" && d.reason !== "too few intervals")
      lines.push({ text: `drift: ${d.summary}`, flagged: false });
  }
  const services = drift.filter((d) => d.role === "service" && d.reason !== "too few intervals");
  if (services.length > 0 && !services.some((d) => d.flagged)) {
    const most = services.reduce((a, b) => ((b.growthBytes ?? 0) > (a.growthBytes ?? 0) ? b : a));
    lines.push({
      text: `drift: no service drifted (${services.length} judged; most growth ${most.process} ${((most.growthBytes ?? 0) / 2 ** 20).toFixed(0)} MB)`,
      flagged: false,
    });
  }
  if (drift.some((d) => d.process) && drift.every((d) => !d.process || d.reason === "too few intervals"))
    lines.push({
      text: "drift: the run was too short to judge the processes' memory (under a minute of samples)",
      flagged: false,
    });
  return lines;
}
