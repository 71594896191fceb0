import { COUNTERS_TAG, RESOURCES_TAG } from "./hdr-log.js";
import { decodeHistogram } from "./histogram.js";

/**
 * Reads back what HdrIntervalLog wrote — interval histograms, the counter and resource
 * comments — tolerating what a kill -9 leaves: a last line cut short is counted and skipped,
 * never a reason to refuse the lines before it.
 */

export interface LoggedInterval {
  tag: string;
  /** Seconds since the log's BaseTime. */
  startSec: number;
  endSec: number;
  /** The interval's histogram, compressed base64 as in the log (µs). */
  encoded: string;
  count: number;
}

export interface LoggedCounters {
  /** Where the phase starts in the log's timeline (s); the counters are cumulative within it. */
  phaseOffsetSec: number;
  endSec: number;
  counters: Record<string, number>;
}

export interface IntervalLogContents {
  /** Epoch ms of the log's StartTime (the run's time 0); undefined when the header is gone. */
  startTimeMs: number | undefined;
  /** The header comment naming the scenario and driver, when there is one. */
  description: string | undefined;
  intervals: LoggedInterval[];
  counters: LoggedCounters[];
  resources: unknown[];
  /** Lines that were neither comment, legend nor a whole interval (a write cut short). */
  unreadableLines: number;
}

const INTERVAL = /^Tag=([^,]+),(\d+(?:\.\d+)?),(\d+(?:\.\d+)?),(\d+(?:\.\d+)?),(\S+)$/;

export function readIntervalLog(text: string): IntervalLogContents {
  const out: IntervalLogContents = {
    startTimeMs: undefined,
    description: undefined,
    intervals: [],
    counters: [],
    resources: [],
    unreadableLines: 0,
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      readComment(line.slice(1), out);
      continue;
    }
    if (line.startsWith('"StartTimestamp"')) continue; // the legend
    const m = INTERVAL.exec(line);
    if (!m) {
      out.unreadableLines++;
      continue;
    }
    const [, tag = "", start = "0", length = "0", , encoded = ""] = m;
    try {
      const h = decodeHistogram(encoded);
      const count = h.totalCount;
      h.destroy();
      out.intervals.push({
        tag,
        startSec: Number(start),
        endSec: Number(start) + Number(length),
        encoded,
        count,
      });
    } catch {
      out.unreadableLines++;
    }
  }
  return out;
}

function readComment(text: string, out: IntervalLogContents): void {
  if (text.startsWith(COUNTERS_TAG)) {
    const m = /^\[Counters (\S+) (\S+) (\{.*\})\]$/.exec(text);
    const parsed = m ? parseJson(m[3] ?? "") : undefined;
    if (!m || !isNumberRecord(parsed)) {
      out.unreadableLines++;
      return;
    }
    out.counters.push({ phaseOffsetSec: Number(m[1]), endSec: Number(m[2]), counters: parsed });
    return;
  }
  if (text.startsWith(RESOURCES_TAG)) {
    const parsed = text.endsWith("]") ? parseJson(text.slice(RESOURCES_TAG.length + 1, -1)) : undefined;
    if (parsed === undefined) out.unreadableLines++;
    else out.resources.push(parsed);
    return;
  }
  const start = /^\[StartTime: (\d+(?:\.\d+)?)/.exec(text);
  if (start) out.startTimeMs = Math.round(Number(start[1]) * 1000);
  else if (text.startsWith("cutover load ")) out.description = text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isNumberRecord(v: unknown): v is Record<string, number> {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === "number" && Number.isFinite(x))
  );
}
