import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { errorMessage, UsageError } from "../util/errors.js";
import { packageRoot } from "../util/package-root.js";
import { importFile } from "./module-import.js";
import {
  type HttpScenarioFunction,
  type ScenarioFunction,
  type ScenarioOptions,
  scenarioOptionsSchema,
} from "./scenario-contract.js";

export type * from "./scenario-contract.js";

export interface ResolvedScenario {
  name: string;
  /** Absent for a scenario given as an object (tests), which then runs in-process. */
  file?: string;
  options: ScenarioOptions;
  fn: ScenarioFunction;
  /** An HTTP scenario (autocannon) exports `http(ctx)`, which builds the request, instead of a user function. */
  http?: HttpScenarioFunction;
}

export class ScenarioError extends UsageError {}

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
  const parsed = scenarioOptionsSchema.safeParse(mod.options);
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
    throw new ScenarioError(`cannot load scenario ${file}: ${errorMessage(err)}`);
  }
  return validateScenario(path.basename(file).replace(/\.[cm]?[jt]s$/, ""), mod, file);
}
