/**
 * One monotonic clock for every thread of a run, in integer microseconds.
 *
 * `performance.now()` counts from each thread's own time origin, so a stamp taken in one
 * worker means nothing in another; `process.hrtime()` reads the process-wide monotonic
 * clock, so an intended time stamped into a message is comparable wherever it arrives.
 */
export function nowUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1_000_000 + Math.floor(ns / 1000);
}

// Node's performance.now() is the same monotonic clock minus a per-thread origin: the
// difference is a constant, measured once, which turns a driver's `receivedAt` into nowUs().
// Measured as the tightest of several brackets: the first calls are slow (lazy setup), and
// on a busy machine the thread can be preempted between two readings.
function measurePerfOffsetUs(): number {
  let best = Number.POSITIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < 25; i++) {
    const before = nowUs();
    const perf = performance.now() * 1000;
    const after = nowUs();
    if (i >= 3 && after - before < best) {
      best = after - before;
      offset = Math.round((before + after) / 2 - perf);
    }
  }
  return offset;
}
const perfOffsetUs = measurePerfOffsetUs();

/** A `performance.now()` reading of this thread (e.g. InboundMessage.receivedAt) on the nowUs() clock. */
export function perfToUs(perfMs: number): number {
  return Math.round(perfMs * 1000) + perfOffsetUs;
}

// A server's timestamp (Unix ms, e.g. Go's time.Now().UnixMilli()) is on the wall clock; nowUs()
// is monotonic. Their offset is read at the instant Date.now() ticks to the next millisecond,
// where the wall clock is known to the microsecond, not only to the millisecond (spins ≤ 1 ms once).
function measureWallOffsetUs(): number {
  const start = Date.now();
  let ms = start;
  while (ms === start) ms = Date.now();
  return ms * 1000 - nowUs();
}
const wallOffsetUs = measureWallOffsetUs();

/** A Unix-ms server timestamp on the nowUs() clock (exact only where both share a clock: one machine). */
export function wallMsToUs(unixMs: number): number {
  return Math.round(unixMs * 1000) - wallOffsetUs;
}

export const usToMs = (us: number): number => us / 1000;
