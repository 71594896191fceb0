import pc from "picocolors";
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
