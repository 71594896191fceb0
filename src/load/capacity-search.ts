import type { IntervalSummary } from "./aggregate.js";
import type { LoadSession, PhaseResult } from "./engine.js";
import { normalizeModel } from "./model.js";
import { metricResults, totalErrors } from "./results.js";
import { counterValues, evaluateThresholds, type Threshold } from "./thresholds.js";

/**
 * The question a performance engineer asks first: what rate does this stack sustain
 * within the SLO? Steps the arrival rate up geometrically until the SLO breaks, then
 * bisects between the last rate that held and the first that did not.
 *
 * A step also fails when the generator itself fell behind (dropped operations): the
 * answer is then "at least this much", limited by the generator, and it says so.
 */
export interface CapacityOptions {
  startRate: number;
  maxRate: number;
  stepDurationMs: number;
  drainMs: number;
  factor: number;
  refineSteps: number;
  slo: Threshold[];
  onStep?: (step: CapacityStepResult) => void;
  onInterval?: (s: IntervalSummary, rate: number) => void;
  phaseHooks?: (rate: number) => Partial<Parameters<LoadSession["runPhase"]>[0]>;
  sutCpu?: () => number | undefined;
  stopped: () => boolean;
}

export interface CapacityStepResult {
  rate: number;
  achievedRate: number;
  held: boolean;
  failures: string[];
  sent: number;
  lost: number;
  droppedIterations: number;
  errors: number;
  ackP99: number;
  e2eP50: number;
  e2eP99: number;
  sutCpuPercent?: number;
  phase: PhaseResult;
}

export interface CapacityResult {
  steps: CapacityStepResult[];
  highestRateHeld: number | null;
  limitedBy: "slo" | "generator" | "max-rate" | null;
  best: CapacityStepResult | undefined;
}

/** At most this many steps, however the search goes: every loop here is bounded. */
const MAX_STEPS = 16;

export async function findCapacity(session: LoadSession, o: CapacityOptions): Promise<CapacityResult> {
  const steps: CapacityStepResult[] = [];
  const tryRate = async (rate: number): Promise<CapacityStepResult> => {
    const phase = await session.runPhase({
      model: normalizeModel({ kind: "constant-arrival-rate", rate, duration: o.stepDurationMs }),
      drainMs: o.drainMs,
      ...(o.onInterval ? { onInterval: (s: IntervalSummary) => o.onInterval?.(s, rate) } : {}),
      ...(o.phaseHooks?.(rate) ?? {}),
    });
    const metrics = metricResults(phase.histograms);
    const elapsedS = phase.scheduleMs / 1000;
    const errors = totalErrors(phase.errors);
    const outcomes = evaluateThresholds(o.slo, metrics, counterValues(phase.counters, errors, elapsedS));
    const failures = outcomes
      .filter((t) => !t.ok)
      .map((t) => `${t.expression} (was ${t.actual ?? "no data"})`);
    const dropped = phase.counters.droppedIterations;
    if (dropped > phase.counters.scheduled * 0.01)
      failures.push(`generator dropped ${dropped} of ${phase.counters.scheduled} operations`);
    const cpu = o.sutCpu?.();
    const step: CapacityStepResult = {
      rate,
      achievedRate: Math.round((phase.counters.sent / elapsedS) * 10) / 10,
      held: failures.length === 0 && !phase.interrupted,
      failures,
      sent: phase.counters.sent,
      lost: phase.counters.lost,
      droppedIterations: dropped,
      errors,
      ackP99: metrics.ack?.p99 ?? 0,
      e2eP50: metrics.e2e?.p50 ?? 0,
      e2eP99: metrics.e2e?.p99 ?? 0,
      ...(cpu === undefined ? {} : { sutCpuPercent: cpu }),
      phase,
    };
    steps.push(step);
    o.onStep?.(step);
    return step;
  };

  let held: CapacityStepResult | undefined;
  let failed: CapacityStepResult | undefined;
  let rate = o.startRate;
  while (steps.length < MAX_STEPS && !o.stopped() && rate <= o.maxRate) {
    const step = await tryRate(rate);
    if (!step.held) {
      failed = step;
      break;
    }
    held = step;
    rate = Math.round(rate * o.factor);
  }
  // The starting rate already broke the SLO: halve until a rate holds (or there is nothing left to try).
  for (
    let r = Math.floor((failed?.rate ?? 0) / 2);
    !held && failed && r >= 1 && steps.length < MAX_STEPS && !o.stopped();
    r = Math.floor(r / 2)
  ) {
    const step = await tryRate(r);
    if (step.held) held = step;
    else failed = step;
  }
  for (let i = 0; i < o.refineSteps && held && failed && steps.length < MAX_STEPS && !o.stopped(); i++) {
    const mid = Math.round((held.rate + failed.rate) / 2);
    if (mid <= held.rate || mid >= failed.rate) break;
    const step = await tryRate(mid);
    if (step.held) held = step;
    else failed = step;
  }
  const generatorLimited = failed?.failures.some((f) => f.startsWith("generator")) ?? false;
  return {
    steps,
    highestRateHeld: held?.rate ?? null,
    limitedBy: failed ? (generatorLimited ? "generator" : "slo") : held ? "max-rate" : null,
    best: held,
  };
}
