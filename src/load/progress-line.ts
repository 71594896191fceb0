import pc from "picocolors";
import type { IntervalSummary } from "./aggregate.js";

/**
 * The live line on a terminal: elapsed, rate, in flight, p50/p99 of the last interval,
 * errors and drops so far. Nothing at all when stderr is not a terminal (CI logs stay clean).
 */
export function progressLine(stream: NodeJS.WriteStream = process.stderr) {
  const tty = stream.isTTY === true;
  let errors = 0;
  let dropped = 0;
  let sent = 0;
  let shown = false;
  return {
    interval(s: IntervalSummary, label = ""): void {
      errors += s.errors;
      dropped += s.dropped;
      sent += s.sent;
      if (!tty) return;
      const parts = [
        `${label}${s.t.toFixed(0)}s`,
        `${s.rate.toFixed(0)} msg/s`,
        `sent ${sent}`,
        `in flight ${s.inFlight}`,
        s.connected > 0 ? `conns ${s.connected}` : "",
        `ack p50 ${s.ackP50.toFixed(1)} p99 ${s.ackP99.toFixed(1)} ms`,
        s.e2eP50 > 0 ? `e2e p50 ${s.e2eP50.toFixed(1)} p99 ${s.e2eP99.toFixed(1)} ms` : "",
        errors > 0 ? pc.red(`errors ${errors}`) : "errors 0",
        dropped > 0 ? pc.yellow(`dropped ${dropped}`) : "",
      ].filter(Boolean);
      stream.write(`\r\x1b[2K${pc.dim("▸")} ${parts.join(pc.dim(" · "))}`);
      shown = true;
    },
    reset(): void {
      errors = 0;
      dropped = 0;
      sent = 0;
    },
    end(): void {
      if (tty && shown) stream.write("\n");
      shown = false;
    },
  };
}
