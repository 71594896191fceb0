import { UsageError } from "../util/errors.js";
import { parseDuration } from "./duration.js";

/**
 * Workload models, as k6 names its executors. The open models keep a schedule of
 * intended start times that does not care how the server is doing — the only way a
 * stalled server shows up in the percentiles. The closed model (each user: operate,
 * wait, repeat) is here to show by comparison how much it hides.
 */

export type Duration = string | number;

export type ModelInput =
  | { kind: "constant-arrival-rate"; rate: number; duration: Duration }
  | {
      kind: "ramping-arrival-rate";
      startRate?: number;
      /** Each stage moves the rate linearly to `target` (per second) over `duration`. */
      stages: Array<{ target: number; duration: Duration }>;
    }
  | {
      kind: "closed";
      /** Concurrent users; default: every user that sends. */
      vus?: number;
      /** Pause after each operation completes. */
      thinkTime: Duration;
      duration: Duration;
    };

/** Rates are per second; a stage moves linearly from `from` to `to`. */
export interface RateStage {
  from: number;
  to: number;
  durationMs: number;
}

export type Model =
  | { kind: "open"; source: ModelInput["kind"]; stages: RateStage[] }
  | { kind: "closed"; vus: number | undefined; thinkMs: number; durationMs: number };

export class ModelError extends UsageError {}

function ms(d: Duration, what: string): number {
  const v = parseDuration(d);
  if (v === undefined) throw new ModelError(`${what}: "${d}" is not a duration (e.g. 30s, 2m, 500ms)`);
  return v;
}

function rate(r: number, what: string): number {
  if (!Number.isFinite(r) || r < 0)
    throw new ModelError(`${what}: ${r} is not a rate (a number ≥ 0 per second)`);
  return r;
}

export function normalizeModel(input: ModelInput): Model {
  switch (input.kind) {
    case "constant-arrival-rate": {
      const r = rate(input.rate, "rate");
      return {
        kind: "open",
        source: input.kind,
        stages: [{ from: r, to: r, durationMs: ms(input.duration, "duration") }],
      };
    }
    case "ramping-arrival-rate": {
      let from = rate(input.startRate ?? 0, "startRate");
      const stages = input.stages.map((s, i) => {
        const stage = {
          from,
          to: rate(s.target, `stages[${i}].target`),
          durationMs: ms(s.duration, `stages[${i}].duration`),
        };
        from = stage.to;
        return stage;
      });
      if (stages.length === 0) throw new ModelError("ramping-arrival-rate needs at least one stage");
      return { kind: "open", source: input.kind, stages };
    }
    case "closed":
      return {
        kind: "closed",
        vus: input.vus,
        thinkMs: ms(input.thinkTime, "thinkTime"),
        durationMs: ms(input.duration, "duration"),
      };
  }
}

export function modelDurationMs(model: Model): number {
  return model.kind === "closed" ? model.durationMs : model.stages.reduce((a, s) => a + s.durationMs, 0);
}

export function peakRate(model: Model): number {
  return model.kind === "closed" ? 0 : Math.max(...model.stages.map((s) => Math.max(s.from, s.to)));
}

/** Operations the schedule calls for over the whole model (open models only). */
export function scheduledCount(model: Model): number {
  if (model.kind === "closed") return 0;
  return model.stages.reduce((a, s) => a + ((s.from + s.to) / 2) * (s.durationMs / 1000), 0);
}

/** The same shape at a different scale: every rate × factor (a worker's share, a capacity step). */
export function scaleModel(model: Model, factor: number): Model {
  if (model.kind === "closed") return model;
  return { ...model, stages: model.stages.map((s) => ({ ...s, from: s.from * factor, to: s.to * factor })) };
}

/** Command-line overrides: --rate sets a constant rate (or scales a ramp to peak there), --duration stretches. */
export function overrideModel(
  model: Model,
  o: { rate?: number; durationMs?: number; users?: number },
): Model {
  let m = model;
  if (o.rate !== undefined) {
    if (m.kind === "open") {
      const peak = peakRate(m);
      m =
        peak > 0
          ? scaleModel(m, o.rate / peak)
          : { ...m, stages: m.stages.map((s) => ({ ...s, from: o.rate ?? 0, to: o.rate ?? 0 })) };
    }
  }
  if (o.durationMs !== undefined) {
    if (m.kind === "closed") m = { ...m, durationMs: o.durationMs };
    else {
      const total = modelDurationMs(m);
      const f = total > 0 ? o.durationMs / total : 1;
      m = { ...m, stages: m.stages.map((s) => ({ ...s, durationMs: s.durationMs * f })) };
    }
  }
  return m;
}

/** `--ramp 50:10s,200:20s,200:1m`: to 50/s over 10 s, to 200/s over 20 s, hold 200/s for 1 min. */
export function parseRamp(text: string, startRate = 0): Model {
  const stages = text.split(",").map((part, i) => {
    const [target, duration] = part.split(":");
    if (target === undefined || duration === undefined)
      throw new ModelError(`--ramp stage ${i + 1} "${part}": expected RATE:DURATION, e.g. 200:30s`);
    return { target: Number(target), duration: duration.trim() };
  });
  return normalizeModel({ kind: "ramping-arrival-rate", startRate, stages });
}
