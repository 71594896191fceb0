import pc from "picocolors";
import type { LoadResults } from "../report/results-schema.js";
import { driftSummaryLines } from "./drift-summary.js";

/** The few lines a person reads after a run; the results file has everything else. */
export function summaryText(r: LoadResults): string {
  const lines: string[] = [];
  const c = r.counters;
  if (r.run && c) {
    const m = r.parameters.model;
    const offered =
      m.kind === "closed"
        ? `closed model (${m.vus ?? "every sending"} users, ${m.thinkMs.toFixed(0)} ms think time)`
        : `of ${r.run.targetRate}/s scheduled`;
    const scheduleMs = r.run.scheduleMs ?? r.run.elapsedMs;
    lines.push(
      `${pc.bold(r.scenario.name)} via ${r.target.driver}: ${r.run.achievedRate}/s achieved ${offered}` +
        ` over ${(scheduleMs / 1000).toFixed(1)}s (+${((r.run.elapsedMs - scheduleMs) / 1000).toFixed(1)}s drain)` +
        `${r.run.interrupted ? pc.yellow(" (interrupted)") : ""}`,
    );
    if (c.sent > 0 || c.expectedDeliveries > 0) {
      const books = r.accounting?.balanced ? pc.green("books balance") : pc.red("books do not balance");
      lines.push(
        `  sent ${c.sent}  acked ${c.acked}  delivered ${c.delivered}/${c.expectedDeliveries}  lost ${c.lost > 0 ? pc.red(String(c.lost)) : 0}` +
          `  duplicated ${c.duplicated}  out of order ${c.outOfOrder}  ${books}`,
      );
    }
    if (c.logins + c.connects + c.loginErrors + c.connectErrors > 0)
      lines.push(
        `  logins ${c.logins} (${c.loginErrors} failed)  connects ${c.connects} (${c.connectErrors} failed)` +
          `  dropped by the server ${c.connectionsDropped}`,
      );
    if (c.droppedIterations > 0)
      lines.push(
        pc.yellow(`  dropped ${c.droppedIterations} operations: ${r.droppedIterations?.note ?? ""}`),
      );
  }
  for (const [name, m] of Object.entries(r.metrics ?? {})) {
    if (name === "iteration") continue;
    lines.push(
      `  ${name.padEnd(14)} ${m.phase === "setup" ? pc.dim("setup ") : "      "}p50 ${m.p50.toFixed(2)}  p90 ${m.p90.toFixed(2)}  p99 ${m.p99.toFixed(2)}` +
        `  p99.9 ${m.p99_9.toFixed(2)}  max ${m.max.toFixed(2)} ms  (n=${m.count})`,
    );
  }
  const errors = Object.entries(r.errors ?? {});
  if (errors.length > 0) lines.push(pc.red(`  errors: ${errors.map(([k, n]) => `${k} ×${n}`).join(", ")}`));
  const protocol = Object.entries(r.protocolErrors ?? {});
  if (protocol.length > 0)
    lines.push(
      pc.red(
        `  protocol errors (frames the server should never send): ${protocol.map(([k, n]) => `${k} ×${n}`).join(", ")}`,
      ),
    );
  for (const d of driftSummaryLines(r.drift ?? []))
    lines.push(d.flagged ? pc.yellow(`  ${d.text}`) : `  ${d.text}`);
  if (r.capacity) {
    lines.push(`  capacity steps (SLO ${r.capacity.slo.join(", ")}):`);
    for (const s of r.capacity.steps)
      lines.push(
        `    ${String(s.rate).padStart(6)}/s → ${String(s.achievedRate).padStart(7)}/s  ack p99 ${s.ackP99.toFixed(1)}  e2e p99 ${s.e2eP99.toFixed(1)} ms` +
          `  lost ${s.lost}  ${s.held ? pc.green("held") : pc.red(`broke: ${s.failures.join("; ")}`)}`,
      );
    lines.push(
      r.capacity.highestRateHeld === null
        ? pc.red("  no step held the SLO")
        : `  highest rate held: ${pc.bold(String(r.capacity.highestRateHeld))}/s (limited by ${r.capacity.limitedBy})`,
    );
  }
  for (const t of r.thresholds ?? [])
    lines.push(
      `  ${t.ok ? pc.green("✓") : pc.red("✗")} ${t.expression} ${pc.dim(`(${t.actual ?? "no data"})`)}`,
    );
  return `${lines.join("\n")}\n`;
}
