import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { packageRoot } from "../util/package-root.js";
import type { HttpScenarioFunction } from "./http-load.js";
import type { ModelInput } from "./model.js";
import { importFile } from "./module-import.js";
import type { TopologyInput } from "./topology.js";
import type { VirtualUser } from "./virtual-user.js";

export type { HttpContext, HttpPlan } from "./http-load.js";
export type { MessageTarget, VirtualUser } from "./virtual-user.js";

/**
 * A scenario reads like a k6 script: `options` (the workload model, the users and how
 * they are grouped, thresholds) and a default function for what one virtual user does
 * in one operation. Workers, sockets and histograms are the engine's business.
 */
export interface ScenarioOptions {
  description?: string;
  /** The driver to use unless --driver says otherwise (default openim). */
  driver?: string;
  model: ModelInput;
  users: number;
  /** Default pairs. */
  topology?: TopologyInput;
  /** "setup": every user logs in and connects before the clock starts; "iteration": the function does it. */
  connect?: "setup" | "iteration";
  /** Operations one user may have in flight at once; beyond that it is busy (default 16 — clients pipeline sends). */
  maxInFlightPerUser?: number;
  /** How long after the last send to wait for deliveries before counting the rest lost (default 10s). */
  drain?: string | number;
  /** `{ "e2e.p99": "< 200ms", lost: "== 0" }`; a list to set several on one metric. */
  thresholds?: Record<string, string | string[]>;
  /** Faults injected into the local stack during the run: "latency:5ms", "reset@10s", "stall:1s@10s" (see faults.ts). */
  faults?: string[];
  /** Per-interval drift checks for long runs (soak). */
  drift?: { e2eP99MaxRatio?: number; rssMaxRatio?: number; skipFirst?: number };
}

export type ScenarioFunction = (vu: VirtualUser) => Promise<void>;

export interface ScenarioModule {
  options: ScenarioOptions;
  default: ScenarioFunction;
}

const duration = z.union([z.string(), z.number().nonnegative()]);

const optionsSchema = z.object({
  description: z.string().optional(),
  driver: z.string().optional(),
  model: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("constant-arrival-rate"), rate: z.number().nonnegative(), duration }),
    z.object({
      kind: z.literal("ramping-arrival-rate"),
      startRate: z.number().nonnegative().optional(),
      stages: z.array(z.object({ target: z.number().nonnegative(), duration })).min(1),
    }),
    z.object({
      kind: z.literal("closed"),
      vus: z.number().int().positive().optional(),
      thinkTime: duration,
      duration,
    }),
  ]),
  users: z.number().int().positive(),
  topology: z
    .discriminatedUnion("kind", [
      z.object({ kind: z.literal("pairs") }),
      z.object({ kind: z.literal("groups"), size: z.number().int().min(2), mixed: z.boolean().optional() }),
      z.object({ kind: z.literal("solo") }),
    ])
    .optional(),
  connect: z.enum(["setup", "iteration"]).optional(),
  maxInFlightPerUser: z.number().int().positive().optional(),
  drain: duration.optional(),
  thresholds: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  faults: z.array(z.string()).optional(),
  drift: z
    .object({
      e2eP99MaxRatio: z.number().positive().optional(),
      rssMaxRatio: z.number().positive().optional(),
      skipFirst: z.number().int().nonnegative().optional(),
    })
    .optional(),
});

export interface ResolvedScenario {
  name: string;
  /** Absent for a scenario given as an object (tests), which then runs in-process. */
  file?: string;
  options: ScenarioOptions;
  fn: ScenarioFunction;
  /** An HTTP scenario (autocannon) exports `http(ctx)`, which builds the request, instead of a user function. */
  http?: HttpScenarioFunction;
}

export class ScenarioError extends Error {}

export function scenariosDir(): string {
  return path.join(packageRoot(), "scenarios");
}

export function builtinScenarios(): string[] {
  const dir = scenariosDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => f.slice(0, -3))
    .sort();
}

/** A name from scenarios/ (`direct-chat`) or a path to a scenario file. */
export function resolveScenarioFile(nameOrFile: string): string {
  const asFile = path.resolve(nameOrFile);
  if (/\.[cm]?[jt]s$/.test(nameOrFile) && existsSync(asFile)) return asFile;
  const builtin = path.join(scenariosDir(), `${nameOrFile}.ts`);
  if (existsSync(builtin)) return builtin;
  throw new ScenarioError(
    `no scenario "${nameOrFile}" (built in: ${builtinScenarios().join(", ") || "none"}; or a path to a .ts file)`,
  );
}

export function validateScenario(
  name: string,
  mod: Record<string, unknown>,
  file?: string,
): ResolvedScenario {
  const parsed = optionsSchema.safeParse(mod.options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `options.${issue.path.join(".")}` : "options";
    throw new ScenarioError(`scenario ${name}: ${where}: ${issue?.message ?? "invalid"}`);
  }
  const http = typeof mod.http === "function" ? (mod.http as HttpScenarioFunction) : undefined;
  if (typeof mod.default !== "function" && !http)
    throw new ScenarioError(
      `scenario ${name}: no default export (the function one virtual user runs) and no http(ctx) export`,
    );
  const fn = typeof mod.default === "function" ? (mod.default as ScenarioFunction) : async () => {};
  return {
    name,
    ...(file ? { file } : {}),
    options: parsed.data as ScenarioOptions,
    fn,
    ...(http ? { http } : {}),
  };
}

export async function loadScenario(nameOrFile: string): Promise<ResolvedScenario> {
  const file = resolveScenarioFile(nameOrFile);
  let mod: Record<string, unknown>;
  try {
    mod = await importFile(file);
  } catch (err) {
    throw new ScenarioError(
      `cannot load scenario ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return validateScenario(path.basename(file).replace(/\.[cm]?[jt]s$/, ""), mod, file);
}
