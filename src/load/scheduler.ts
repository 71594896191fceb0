import { nowUs } from "../metrics/clock.js";
import { sleep } from "../util/time.js";
import { arrivalSchedule } from "./arrival-rate.js";
import type { RateStage } from "./model.js";

/**
 * Runs the schedule: every operation is handed its *intended* start time, and latency is
 * measured from that, not from when the generator got round to it (wrk2's answer to
 * coordinated omission). A late tick dispatches everything that fell due, each with its
 * own intended time; whether an operation runs or is dropped is the dispatcher's call.
 */
const MAX_BURST = 2000;

export interface OpenLoopOptions {
  stages: RateStage[];
  /** Shared start instant on the nowUs() clock, so every worker keeps the same schedule. */
  t0Us: number;
  dispatch: (intendedUs: number) => void;
  stopped: () => boolean;
  /**
   * Offer only operations k ≡ index (mod count) of the schedule: one shard's part of a run
   * split over processes, phase-offset so all parts interleave into the one schedule.
   */
  segment?: { index: number; count: number };
}

/** Resolves when the schedule is exhausted or `stopped()`. */
export async function runOpenLoop(o: OpenLoopOptions): Promise<void> {
  const at = arrivalSchedule(o.stages);
  const step = o.segment?.count ?? 1;
  let k = o.segment?.index ?? 0;
  let next = at(k);
  while (next !== undefined && !o.stopped()) {
    const now = nowUs();
    const dueUs = o.t0Us + next * 1000;
    if (dueUs > now) {
      // Timers fire ≥ 1 ms late at best; waking a little early and dispatching what is due keeps the lateness under a ms.
      await sleep(Math.max(0, (dueUs - now) / 1000 - 0.5));
      continue;
    }
    // Everything due now, with a bound so a far-behind generator still yields to I/O between batches.
    let burst = 0;
    for (; burst < MAX_BURST && next !== undefined; burst++) {
      const intended = o.t0Us + next * 1000;
      if (intended > now) break;
      o.dispatch(Math.round(intended));
      k += step;
      next = at(k);
    }
    // An extra turn of the event loop costs a wakeup per message at low rates: only when the burst was cut short.
    if (burst === MAX_BURST) await yieldToIo();
  }
  // A schedule can end before the model does (a hold at zero rate: connections kept open, idle).
  const endUs = o.t0Us + o.stages.reduce((a, s) => a + s.durationMs, 0) * 1000;
  while (!o.stopped() && nowUs() < endUs) await sleep(Math.min(100, (endUs - nowUs()) / 1000));
}

export interface ClosedLoopOptions {
  vus: number;
  thinkMs: number;
  t0Us: number;
  durationMs: number;
  /** One operation for slot `vu`; the closed model's "intended" time is simply when it starts. */
  iterate: (vu: number, startedUs: number) => Promise<void>;
  stopped: () => boolean;
}

/**
 * N users, each: operate, wait for the answer, think, repeat. A stalled server stalls
 * the users too, so it gets fewer requests exactly when it is slow — the omission the
 * open model avoids. Kept for comparison runs.
 */
export async function runClosedLoop(o: ClosedLoopOptions): Promise<number> {
  const endUs = o.t0Us + o.durationMs * 1000;
  const wait = o.t0Us - nowUs();
  if (wait > 0) await sleep(wait / 1000);
  let count = 0;
  const loops = Array.from({ length: o.vus }, async (_, vu) => {
    // Bounded by time; each iteration ends (drivers time out their requests).
    while (!o.stopped() && nowUs() < endUs) {
      count++;
      await o.iterate(vu, nowUs());
      if (o.thinkMs > 0 && nowUs() < endUs) await sleep(Math.min(o.thinkMs, (endUs - nowUs()) / 1000));
    }
  });
  await Promise.all(loops);
  return count;
}

const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
