import type { LoadSession } from "./engine.js";
import { normalizeModel } from "./model.js";

/**
 * A stack that has just started is not yet the stack being measured: OpenIM's Kafka
 * consumers are still joining their groups, and pushes produced before they have joined
 * are never delivered (measured here: 8 of the first 11 messages on a cold local stack).
 * Warm-up runs short, unrecorded phases at a low rate until one delivers everything it
 * sent, bounded in time; what it saw is kept in the results, not in the measurement.
 */
export interface WarmupResult {
  phases: number;
  ms: number;
  sent: number;
  lost: number;
  /** False when the time ran out before a phase delivered everything. */
  settled: boolean;
}

export async function warmUp(
  session: LoadSession,
  o: { maxMs: number; rate: number; stopped: () => boolean },
): Promise<WarmupResult> {
  const started = performance.now();
  const result: WarmupResult = { phases: 0, ms: 0, sent: 0, lost: 0, settled: false };
  while (!o.stopped() && performance.now() - started < o.maxMs) {
    const phase = await session.runPhase({
      model: normalizeModel({ kind: "constant-arrival-rate", rate: o.rate, duration: 2000 }),
      drainMs: 5000,
    });
    result.phases++;
    result.sent += phase.counters.sent;
    result.lost += phase.counters.lost;
    const c = phase.counters;
    if (c.sent > 0 && c.lost === 0 && c.sendErrors === 0) {
      result.settled = true;
      break;
    }
    // Nothing to send with (a scenario of logins or connections): nothing to warm either.
    if (c.sent === 0 && c.iterations > 0) {
      result.settled = true;
      break;
    }
  }
  result.ms = Math.round(performance.now() - started);
  return result;
}
