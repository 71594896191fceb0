import pc from "picocolors";
import type { SuiteProgress } from "../conformance-runner/collector.js";
import type { ProgressSink } from "../stack/progress.js";
import { formatSeconds } from "../util/time.js";

/**
 * Progress goes to stderr so stdout stays a clean result (`--json` prints one object).
 * On a terminal a step shows as "… name" then "✓ name 1.23s"; in logs, just the done lines.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): ProgressSink {
  const tty = stream.isTTY === true;
  return (event) => {
    if (event.kind === "step") {
      if (tty) stream.write(`${pc.dim("…")} ${event.name}\n`);
    } else if (event.kind === "done") {
      const detail = event.detail ? pc.dim(` ${event.detail}`) : "";
      stream.write(`${pc.green("✓")} ${event.name} ${pc.dim(formatSeconds(event.ms))}${detail}\n`);
    } else {
      stream.write(`${pc.yellow("•")} ${event.message}\n`);
    }
  };
}

/** One line per finished conformance suite, so a long run shows how far it has come (also in CI logs). */
export function suiteProgressPrinter(stream: NodeJS.WriteStream = process.stderr) {
  return (p: SuiteProgress): void => {
    const c = p.suiteCounts;
    const mark = c.failed > 0 ? pc.red("✗") : pc.green("✓");
    const counts = [
      `${c.passed} passed`,
      c.failed > 0 ? pc.red(`${c.failed} failed`) : "",
      c.skipped > 0 ? `${c.skipped} skipped` : "",
    ]
      .filter(Boolean)
      .join(", ");
    const t = p.totals;
    const sofar = pc.dim(
      `[${p.suitesDone}/${p.suitesTotal} suites · ${t.passed + t.failed + t.skipped} cases so far${t.failed > 0 ? `, ${t.failed} failed` : ""}]`,
    );
    stream.write(`  ${mark} ${p.suite}: ${counts} ${pc.dim(formatSeconds(c.durationMs))} ${sofar}\n`);
  };
}
