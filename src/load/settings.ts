import type { DriverSpec } from "./driver-factory.js";
import { parseDuration } from "./duration.js";
import { type Model, normalizeModel, overrideModel, parseRamp } from "./model.js";
import type { ScenarioOptions } from "./scenario.js";
import { collectThresholds, type Threshold } from "./thresholds.js";
import { formUnits, type TopologyInput } from "./topology.js";

/** What the command line may change about a scenario, k6-style: the file sets defaults, flags override. */
export interface LoadOverrides {
  driver?: string;
  rate?: string;
  users?: string;
  duration?: string;
  ramp?: string;
  closed?: boolean;
  think?: string;
  groupSize?: string;
  threshold?: string[];
  drain?: string;
  workers?: string;
  interval?: string;
}

export interface LoadSettings {
  model: Model;
  users: number;
  topology: TopologyInput;
  connect: "setup" | "iteration";
  maxInFlightPerUser: number;
  drainMs: number;
  intervalMs: number;
  workers: number | undefined;
  thresholds: Threshold[];
  driver: DriverSpec;
}

export class SettingsError extends Error {}

function positive(flag: string, text: string | undefined, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)))
    throw new SettingsError(`${flag} ${text}: expected ${integer ? "a whole number" : "a number"} ≥ 0`);
  return n;
}

function duration(flag: string, text: string | number | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new SettingsError(`${flag} ${text}: expected a duration such as 30s, 2m, 500ms`);
  return ms;
}

/** A built-in driver by name, or a path to a module (it contains a slash or ends in .ts/.js). */
export function driverSpec(value: string): DriverSpec {
  return /[/\\]|\.[cm]?[jt]s$/.test(value) ? { name: value, module: value } : { name: value };
}

export function resolveSettings(options: ScenarioOptions, o: LoadOverrides): LoadSettings {
  const users = positive("--users", o.users, true) ?? options.users;
  let topology = options.topology ?? { kind: "pairs" };
  const groupSize = positive("--group-size", o.groupSize, true);
  if (groupSize !== undefined) {
    if (topology.kind !== "groups") throw new SettingsError("--group-size applies to group scenarios only");
    topology = { ...topology, size: groupSize };
  }
  if (formUnits(users, topology).length === 0)
    throw new SettingsError(
      `${users} users are too few for ${topology.kind === "groups" ? `a group of ${topology.size}` : "a pair"}`,
    );
  let model = o.ramp ? parseRamp(o.ramp) : normalizeModel(options.model);
  model = overrideModel(model, {
    ...(o.rate !== undefined && !o.ramp ? { rate: positive("--rate", o.rate) } : {}),
    ...(o.duration !== undefined ? { durationMs: duration("--duration", o.duration) } : {}),
  });
  if (o.closed || o.think) {
    // The closed model at the same nominal rate: each sender operates every senders/rate seconds.
    const senders = formUnits(users, topology).reduce((a, u) => a + u.senders.length, 0);
    const rate =
      positive("--rate", o.rate) ?? (model.kind === "open" ? Math.max(...model.stages.map((s) => s.to)) : 0);
    const thinkMs = duration("--think", o.think) ?? (rate > 0 ? (senders / rate) * 1000 : 1000);
    const durationMs =
      model.kind === "closed" ? model.durationMs : model.stages.reduce((a, s) => a + s.durationMs, 0);
    model = { kind: "closed", vus: undefined, thinkMs, durationMs };
  }
  const workers = positive("--workers", o.workers, true);
  return {
    model,
    users,
    topology,
    connect: options.connect ?? "setup",
    maxInFlightPerUser: options.maxInFlightPerUser ?? 16,
    drainMs: duration("--drain", o.drain) ?? duration("options.drain", options.drain) ?? 10_000,
    intervalMs: duration("--interval", o.interval) ?? 1000,
    workers,
    thresholds: collectThresholds(options.thresholds, o.threshold ?? []),
    driver: driverSpec(o.driver ?? options.driver ?? "openim"),
  };
}
