import { stripVTControlCharacters } from "node:util";
import pc from "picocolors";
import type { ResourceSample } from "../metrics/proc-sampler.js";
import type { IntervalSummary } from "./aggregate.js";

/** 3725 s → "1h02m05s": a long run's clock as people read it. */
export function clock(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = `${String(s % 60).padStart(2, "0")}s`;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m${rest}` : m > 0 ? `${m}m${rest}` : `${s % 60}s`;
}

/** 851_443_712 → "812 MiB": memory as people read it. */
export function bytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${Math.round(n / 2 ** 20)} MiB`;
}

/**
 * The live line: elapsed (and what remains, when the run's length is known), rate, sent and
 * delivered, deliveries outstanding (owed and not yet made: during a phase the engine cannot
 * tell late from lost, so this is the honest name; a delivery is counted lost when the drain
 * window closes, and then the line says so), in flight, p50/p99 of the last interval, errors
 * and drops so far, and the SUT's memory (RSS of the stack's processes, local stacks). On a
 * terminal it rewrites itself each interval, giving up its lesser details to stay on one line;
 * elsewhere (a CI log, a soak's nohup file) it is a plain line every `everySec`, as k6 prints
 * its progress where nobody watches a terminal.
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
  let outstanding: number | undefined;
  let lost = 0;
  let sutRss: number | undefined;
  let shown = false;
  let lastPlain = 0;
  return {
    /** The latest resource sample of the stack's processes. */
    sut(sample: ResourceSample): void {
      sutRss = sample.totalRssBytes;
    },
    interval(s: IntervalSummary, label = ""): void {
      errors += s.errors;
      dropped += s.dropped;
      sent += s.sent;
      delivered += s.delivered;
      if (s.live) {
        const c = s.live.counters;
        outstanding = Math.max(0, c.expectedDeliveries - c.delivered - c.lost);
        lost = c.lost;
      }
      if (!tty && s.t - lastPlain < everySec) return;
      const left = opts.totalSec !== undefined && !label ? ` (${clock(opts.totalSec - s.t)} left)` : "";
      // Each part with the order it gives way in when a terminal is too narrow (0: never).
      const parts: [string, number][] = [
        [`${label}${clock(s.t)}${left}`, 0],
        [`${s.rate.toFixed(0)} msg/s`, 0],
        [`sent ${sent}`, 6],
        [`delivered ${delivered}`, 5],
        [outstanding !== undefined ? `outstanding ${outstanding}` : "", 3],
        [lost > 0 ? pc.red(`lost ${lost}`) : "", 0],
        [`in flight ${s.inFlight}`, 8],
        [s.connected > 0 ? `conns ${s.connected}` : "", 9],
        [`ack p50 ${s.ackP50.toFixed(1)} p99 ${s.ackP99.toFixed(1)} ms`, 7],
        [s.e2eP50 > 0 ? `e2e p50 ${s.e2eP50.toFixed(1)} p99 ${s.e2eP99.toFixed(1)} ms` : "", 1],
        [errors > 0 ? pc.red(`errors ${errors}`) : "errors 0", errors > 0 ? 0 : 4],
        [dropped > 0 ? pc.yellow(`dropped ${dropped}`) : "", 0],
        [sutRss !== undefined ? `SUT ${bytes(sutRss)}` : "", 2],
      ];
      const present = parts.filter(([text]) => text);
      if (!tty) {
        lastPlain = s.t;
        stream.write(`${present.map(([text]) => text).join(" · ")}\n`);
        return;
      }
      // A line wider than the terminal wraps, and rewriting it would leave its first half behind.
      const width = (stream.columns ?? 0) - 3;
      const visible = (list: [string, number][]) =>
        stripVTControlCharacters(list.map(([text]) => text).join(" · ")).length;
      let fitted = present;
      for (let rank = 9; width > 0 && rank > 0 && visible(fitted) > width; rank--)
        fitted = fitted.filter(([, r]) => r !== rank);
      stream.write(`\r\x1b[2K${pc.dim("▸")} ${fitted.map(([text]) => text).join(pc.dim(" · "))}`);
      shown = true;
    },
    reset(): void {
      errors = 0;
      dropped = 0;
      sent = 0;
      delivered = 0;
      outstanding = undefined;
      lost = 0;
      lastPlain = 0;
    },
    end(): void {
      if (tty && shown) stream.write("\n");
      shown = false;
      lastPlain = 0;
    },
  };
}
