import { type DriftVerdict, detectDrift } from "./drift.js";
import type { ResourceSample } from "./proc-sampler.js";

/**
 * Drift judged per process, because "the SUT's memory rose" names no culprit and is usually
 * wrong: a data store that holds every message grows by design. So:
 *
 * - a **data store** (Redis, Kafka, the MongoDB stand-in, etcd, Postgres, RabbitMQ, the S3
 *   stand-in, Prometheus) is set against the data written: its growth per 1,000 messages in
 *   the first and second half of the run. Holding data at a steady cost is not a leak; the
 *   cost per message rising is.
 * - a **service** (OpenIM's processes, the gateway, the legacy services, nginx) and the
 *   **generator** itself are leak suspects: flagged when the fitted RSS rises by more than the
 *   ratio allowed *and* by more than a floor, since a 30 MB process gaining 13 MB is noise
 *   (heaps settling, caches warming), not a leak.
 * - the generator's CPU per message is fitted over the run too: a generator that costs more
 *   per message as the run goes on will, in a long enough run, stop offering the rate.
 */

export type ProcessRole = "store" | "service" | "generator";

/** The generator (this cutover process, worker threads included) in resource samples and verdicts. */
export const GENERATOR_NAME = "cutover (generator)";

const STORES = /^(redis|kafka|mongo|etcd|postgres|rabbitmq|s3|minio|prometheus|zookeeper)\b/i;

export function processRole(name: string): ProcessRole {
  if (name === GENERATOR_NAME) return "generator";
  return STORES.test(name) ? "store" : "service";
}

export interface ProcessDrift extends DriftVerdict {
  process: string;
  role: ProcessRole;
  /** "rss" for every process; "cpu-per-message" for the generator's CPU cost. */
  measure: "rss" | "cpu-per-message";
  /** Fitted RSS growth across the judged span, bytes (rss measures only). */
  growthBytes?: number;
  /** Stores: growth per 1,000 messages written, bytes, over the whole span and each half. */
  perThousandMessages?: { whole: number; firstHalf: number; secondHalf: number };
  /** One line for a person, flagged or not. */
  summary: string;
}

export interface ProcessDriftOptions {
  /** Services and the generator: flag a fitted RSS rise above this factor (soak: 1.25). */
  rssMaxRatio: number;
  /** …and above this many bytes (default 32 MiB). */
  rssMinGrowthBytes?: number;
  /** Stores: flag when growth per message in the second half exceeds the first half's by this factor (default 2). */
  storePerMessageMaxRatio?: number;
  /** Generator: flag CPU per message rising above this factor across the run (default 1.5). */
  cpuPerMessageMaxRatio?: number;
  skipFirst?: number;
  minPoints?: number;
}

/** One process's resource series, in run seconds. */
export interface ProcessSeries {
  name: string;
  points: Array<{ t: number; rssBytes: number; cpuPercent: number }>;
}

/** Messages up to run time t: `written` (sent: what stores hold), `handled` (sent + delivered: what the generator does). */
export type MessagesAt = (tSec: number) => { written: number; handled: number };

export const DEFAULT_RSS_MIN_GROWTH_BYTES = 32 * 2 ** 20;

const MB = (b: number) => `${(b / 2 ** 20).toFixed(b >= 10 * 2 ** 20 || b <= -10 * 2 ** 20 ? 0 : 1)} MB`;
const signedMB = (b: number) => `${b >= 0 ? "+" : "−"}${MB(Math.abs(b))}`;
const perK = (b: number) =>
  Math.abs(b) >= 2 ** 20
    ? `${(b / 2 ** 20).toFixed(1)} MB`
    : Math.abs(b) >= 1024
      ? `${(b / 1024).toFixed(0)} KB`
      : `${b.toFixed(0)} B`;

/** Least-squares slope of y against x; 0 when x does not vary. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export function judgeProcessDrift(
  series: ProcessSeries[],
  messagesAt: MessagesAt,
  o: ProcessDriftOptions,
): ProcessDrift[] {
  const out: ProcessDrift[] = [];
  for (const s of series) {
    const role = processRole(s.name);
    out.push(role === "store" ? judgeStore(s, messagesAt, o) : judgeLeakSuspect(s, role, o));
    if (role === "generator") out.push(judgeCpuPerMessage(s, messagesAt, o));
  }
  return out;
}

function judgeLeakSuspect(s: ProcessSeries, role: ProcessRole, o: ProcessDriftOptions): ProcessDrift {
  const label = `RSS of ${s.name} (bytes)`;
  const v = detectDrift(
    label,
    s.points.map((p) => [p.t, p.rssBytes]),
    { maxRatio: o.rssMaxRatio, skipFirst: o.skipFirst, minPoints: o.minPoints },
  );
  const floor = o.rssMinGrowthBytes ?? DEFAULT_RSS_MIN_GROWTH_BYTES;
  const usable = s.points.slice(o.skipFirst ?? 0);
  const span = (usable.at(-1)?.t ?? 0) - (usable[0]?.t ?? 0);
  const growth = (v.slopePerHour / 3600) * span;
  const who = role === "generator" ? s.name : `${s.name} (service)`;
  if (v.reason === "too few intervals")
    return {
      ...v,
      process: s.name,
      role,
      measure: "rss",
      summary: `${who}: too few samples to judge`,
    };
  const flagged = v.flagged && growth > floor;
  const summary = `${who}: ${signedMB(growth)} RSS, ×${v.ratio.toFixed(2)} (limit ×${o.rssMaxRatio} and ${MB(floor)})${flagged ? " — a leak suspect" : ""}`;
  const { reason: _reason, ...rest } = v;
  return {
    ...rest,
    flagged,
    ...(flagged
      ? {
          reason: `${s.name} RSS rose ×${v.ratio.toFixed(2)} (${signedMB(growth)}) across the run (limit ×${o.rssMaxRatio}): a leak suspect`,
        }
      : {}),
    process: s.name,
    role,
    measure: "rss",
    growthBytes: Math.round(growth),
    summary,
  };
}

function judgeStore(s: ProcessSeries, messagesAt: MessagesAt, o: ProcessDriftOptions): ProcessDrift {
  const usable = s.points.slice(o.skipFirst ?? 0);
  const label = `RSS of ${s.name} per message written (bytes)`;
  const base = { series: label, process: s.name, role: "store" as const, measure: "rss" as const };
  const minPoints = o.minPoints ?? 10;
  if (usable.length < minPoints)
    return {
      ...base,
      points: usable.length,
      slopePerHour: 0,
      ratio: 1,
      flagged: false,
      reason: "too few intervals",
      summary: `${s.name} (data store): too few samples to judge`,
    };
  const xy = (ps: typeof usable): Array<[number, number]> =>
    ps.map((p) => [messagesAt(p.t).written, p.rssBytes]);
  const half = Math.floor(usable.length / 2);
  const whole = slope(xy(usable)) * 1000;
  const firstHalf = slope(xy(usable.slice(0, half + 1))) * 1000;
  const secondHalf = slope(xy(usable.slice(half))) * 1000;
  const written = messagesAt(usable.at(-1)?.t ?? 0).written - messagesAt(usable[0]?.t ?? 0).written;
  const growth = (whole / 1000) * written;
  const secondGrowth =
    (secondHalf / 1000) *
    (messagesAt(usable.at(-1)?.t ?? 0).written - messagesAt(usable[half]?.t ?? 0).written);
  const maxRatio = o.storePerMessageMaxRatio ?? 2;
  const floor = o.rssMinGrowthBytes ?? DEFAULT_RSS_MIN_GROWTH_BYTES;
  // A first half that cost (almost) nothing makes any ratio huge; the floor on growth decides then.
  const ratio = firstHalf > 0 ? secondHalf / firstHalf : secondHalf > 0 ? Number.POSITIVE_INFINITY : 1;
  const flagged = secondHalf > 0 && ratio > maxRatio && secondGrowth > floor;
  const shownRatio = Number.isFinite(ratio) ? Math.round(ratio * 1000) / 1000 : 999;
  const summary =
    written > 0
      ? `${s.name} (data store): ${signedMB(growth)} holding ${written.toLocaleString("en-US")} messages = ${perK(whole)} per 1,000 messages (first half ${perK(firstHalf)}, second ${perK(secondHalf)})${flagged ? " — growth per message rising" : ": data held, not a leak"}`
      : `${s.name} (data store): no messages written while sampled`;
  return {
    ...base,
    points: usable.length,
    slopePerHour: 0,
    ratio: shownRatio,
    flagged,
    ...(flagged
      ? {
          reason: `${s.name} grew ${perK(secondHalf)} per 1,000 messages in the second half against ${perK(firstHalf)} in the first (limit ×${maxRatio}): growth per message rising`,
        }
      : {}),
    growthBytes: Math.round(growth),
    perThousandMessages: {
      whole: Math.round(whole),
      firstHalf: Math.round(firstHalf),
      secondHalf: Math.round(secondHalf),
    },
    summary,
  };
}

/** CPU ms per 1,000 messages handled, in windows of the run, fitted like any other series. */
function judgeCpuPerMessage(s: ProcessSeries, messagesAt: MessagesAt, o: ProcessDriftOptions): ProcessDrift {
  const usable = s.points.slice(o.skipFirst ?? 0);
  // Per-sample figures are noisy (a few messages per second); windows of ~1/20 of the run smooth them.
  const window = Math.max(1, Math.floor(usable.length / 20));
  const points: Array<[number, number]> = [];
  for (let i = window; i < usable.length; i += window) {
    const from = usable[i - window];
    const to = usable[i];
    if (!from || !to) continue;
    const cpuMs = usable
      .slice(i - window + 1, i + 1)
      .reduce((a, p, k, arr) => a + (p.cpuPercent / 100) * (p.t - (arr[k - 1]?.t ?? from.t)) * 1000, 0);
    const handled = messagesAt(to.t).handled - messagesAt(from.t).handled;
    if (handled > 0) points.push([to.t, (cpuMs / handled) * 1000]);
  }
  const maxRatio = o.cpuPerMessageMaxRatio ?? 1.5;
  const enough = usable.length >= (o.minPoints ?? 10);
  const v = detectDrift(`CPU ms of ${s.name} per 1,000 messages`, enough ? points : [], {
    maxRatio,
    minPoints: Math.min(10, o.minPoints ?? 10),
  });
  const mean = points.length ? points.reduce((a, [, y]) => a + y, 0) / points.length : 0;
  const summary =
    v.reason === "too few intervals"
      ? `${s.name} CPU per message: too few samples to judge`
      : `${s.name} CPU: ${mean.toFixed(1)} ms per 1,000 messages, ×${v.ratio.toFixed(2)} across the run (limit ×${maxRatio})${v.flagged ? " — rising" : ""}`;
  return { ...v, process: s.name, role: "generator", measure: "cpu-per-message", summary };
}

/** Per-process series out of resource samples (dead samples left out), the generator last. */
export function processSeries(samples: ResourceSample[]): ProcessSeries[] {
  const byName = new Map<string, ProcessSeries["points"]>();
  for (const s of samples) {
    for (const p of s.processes) {
      if (!p.alive) continue;
      const list = byName.get(p.name) ?? [];
      list.push({ t: s.t, rssBytes: p.rssBytes, cpuPercent: p.cpuPercent });
      byName.set(p.name, list);
    }
    if (s.generator) {
      const list = byName.get(GENERATOR_NAME) ?? [];
      list.push({ t: s.t, ...s.generator });
      byName.set(GENERATOR_NAME, list);
    }
  }
  return [...byName].map(([name, points]) => ({ name, points }));
}

/**
 * Messages up to a run time, from a phase's intervals (whose t is seconds since the phase's
 * start, at each interval's end); `phaseOffsetSec` places the phase in run time. Within an
 * interval the count is interpolated, so a sample mid-interval is not off by a whole interval.
 */
export function messagesFromIntervals(
  intervals: Array<{ t: number; sent: number; delivered: number }>,
  phaseOffsetSec: number,
): MessagesAt {
  const ends: Array<{ t: number; written: number; handled: number }> = [];
  let written = 0;
  let handled = 0;
  for (const i of intervals) {
    written += i.sent;
    handled += i.sent + i.delivered;
    ends.push({ t: i.t + phaseOffsetSec, written, handled });
  }
  return (t) => {
    // Binary search for the first interval ending after t: a soak asks this of every sample.
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ends[mid]?.t ?? 0) <= t) lo = mid + 1;
      else hi = mid;
    }
    const prev = ends[lo - 1] ?? { t: phaseOffsetSec, written: 0, handled: 0 };
    const next = ends[lo];
    if (!next || t <= prev.t) return { written: prev.written, handled: prev.handled };
    const f = (t - prev.t) / (next.t - prev.t);
    return {
      written: prev.written + (next.written - prev.written) * f,
      handled: prev.handled + (next.handled - prev.handled) * f,
    };
  };
}
