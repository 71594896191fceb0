import { UsageError } from "../util/errors.js";
import type { DriverSpec } from "./driver-factory.js";
import { parseDuration } from "./duration.js";
import { type Model, normalizeModel, overrideModel, parseRamp } from "./model.js";
import { SCENARIO_DEFAULTS, type ScenarioOptions } from "./scenario-contract.js";
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
  /** setup: every user logged in and connected before the clock starts; iteration: by the scenario. */
  connect?: string;
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

export class SettingsError extends UsageError {}

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

/** Drivers a config names: a team's own modules with the options that say where their stack is. */
export type ConfiguredDrivers = Readonly<
  Record<string, { module: string; options: Record<string, unknown> }>
>;

/**
 * A driver named in the config, a built-in by name, or a path to a module (it contains a slash
 * or ends in .ts/.js). Config names win, so a team can call its driver "legacy".
 */
export function driverSpec(value: string, configured: ConfiguredDrivers = {}): DriverSpec {
  const named = configured[value];
  if (named) return { name: value, module: named.module, options: named.options };
  return /[/\\]|\.[cm]?[jt]s$/.test(value) ? { name: value, module: value } : { name: value };
}

function connectWhen(text: string | undefined): LoadSettings["connect"] | undefined {
  if (text === undefined) return undefined;
  if (text !== "setup" && text !== "iteration")
    throw new SettingsError(`--connect ${text}: expected setup (before the clock starts) or iteration`);
  return text;
}

export function resolveSettings(
  options: ScenarioOptions,
  o: LoadOverrides,
  drivers: ConfiguredDrivers = {},
): LoadSettings {
  const users = positive("--users", o.users, true) ?? options.users;
  let topology: TopologyInput = options.topology ?? SCENARIO_DEFAULTS.topology;
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
    connect: connectWhen(o.connect) ?? options.connect ?? SCENARIO_DEFAULTS.connect,
    maxInFlightPerUser: options.maxInFlightPerUser ?? SCENARIO_DEFAULTS.maxInFlightPerUser,
    drainMs:
      duration("--drain", o.drain) ?? duration("options.drain", options.drain) ?? SCENARIO_DEFAULTS.drainMs,
    intervalMs: duration("--interval", o.interval) ?? SCENARIO_DEFAULTS.intervalMs,
    workers,
    thresholds: collectThresholds(options.thresholds, o.threshold ?? []),
    driver: driverSpec(o.driver ?? options.driver ?? SCENARIO_DEFAULTS.driver, drivers),
  };
}
