import pc from "picocolors";
import type { IntervalSummary } from "./aggregate.js";

/** 3725 s → "1h02m05s": a long run's clock as people read it. */
export function clock(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = `${String(s % 60).padStart(2, "0")}s`;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m${rest}` : m > 0 ? `${m}m${rest}` : `${s % 60}s`;
}

/**
 * The live line: elapsed (and what remains, when the run's length is known), rate, in flight,
 * p50/p99 of the last interval, errors and drops so far. On a terminal it rewrites itself each
 * interval; elsewhere (a CI log, a soak's nohup file) it is a plain line every `everySec`, as
 * k6 prints its progress where nobody watches a terminal.
 */
export function progressLine(
  stream: NodeJS.WriteStream = process.stderr,
  opts: { totalSec?: number; everySec?: number } = {},
) {
  const tty = stream.isTTY === true;
  const everySec = opts.everySec ?? 30;
  let errors = 0;
  let dropped = 0;
  let sent = 0;
  let delivered = 0;
  let shown = false;
  let lastPlain = 0;
  return {
    interval(s: IntervalSummary, label = ""): void {
      errors += s.errors;
      dropped += s.dropped;
      sent += s.sent;
      delivered += s.delivered;
      if (!tty && s.t - lastPlain < everySec) return;
      const left = opts.totalSec !== undefined && !label ? ` (${clock(opts.totalSec - s.t)} left)` : "";
      const parts = [
        `${label}${clock(s.t)}${left}`,
        `${s.rate.toFixed(0)} msg/s`,
        `sent ${sent}`,
        `delivered ${delivered}`,
        `in flight ${s.inFlight}`,
        s.connected > 0 ? `conns ${s.connected}` : "",
        `ack p50 ${s.ackP50.toFixed(1)} p99 ${s.ackP99.toFixed(1)} ms`,
        s.e2eP50 > 0 ? `e2e p50 ${s.e2eP50.toFixed(1)} p99 ${s.e2eP99.toFixed(1)} ms` : "",
        errors > 0 ? pc.red(`errors ${errors}`) : "errors 0",
        dropped > 0 ? pc.yellow(`dropped ${dropped}`) : "",
      ].filter(Boolean);
      if (!tty) {
        lastPlain = s.t;
        stream.write(`${parts.join(" · ")}\n`);
        return;
      }
      stream.write(`\r\x1b[2K${pc.dim("▸")} ${parts.join(pc.dim(" · "))}`);
      shown = true;
    },
    reset(): void {
      errors = 0;
      dropped = 0;
      sent = 0;
      delivered = 0;
      lastPlain = 0;
    },
    end(): void {
      if (tty && shown) stream.write("\n");
      shown = false;
      lastPlain = 0;
    },
  };
}
