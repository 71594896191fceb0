import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { CutoverError, EXIT, errorMessage } from "../util/errors.js";
import { type CutoverConfig, configSchema } from "./schema.js";

const CANDIDATES = [
  "cutover.config.ts",
  "cutover.config.mjs",
  "cutover.config.js",
  "cutover.config.yaml",
  "cutover.config.yml",
  "cutover.config.json",
];

/** The config file to use: the one named, else the first conventional name in `cwd`, else none. */
export function findConfigFile(explicit: string | undefined, cwd = process.cwd()): string | undefined {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!existsSync(file)) throw new CutoverError(`config file not found: ${explicit}`, EXIT.usage);
    return file;
  }
  return CANDIDATES.map((name) => path.join(cwd, name)).find((file) => existsSync(file));
}

/** A .ts config outside an ESM package loads as CommonJS, so its `export default` arrives wrapped once more. */
function unwrapDefault(value: unknown): unknown {
  if (
    value &&
    typeof value === "object" &&
    "default" in value &&
    ("__esModule" in value || Object.keys(value).length === 1)
  ) {
    return (value as { default: unknown }).default;
  }
  return value ?? {};
}

async function readRaw(file: string): Promise<unknown> {
  const ext = path.extname(file);
  try {
    if (ext === ".yaml" || ext === ".yml") return parseYaml(readFileSync(file, "utf8")) ?? {};
    if (ext === ".json") return JSON.parse(readFileSync(file, "utf8"));
    if (ext === ".ts" || ext === ".mts") {
      const { tsImport } = await import("tsx/esm/api");
      const mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
      return unwrapDefault(mod.default);
    }
    const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    return mod.default ?? {};
  } catch (err) {
    throw new CutoverError(`cannot read config ${path.basename(file)}: ${errorMessage(err)}`, EXIT.usage);
  }
}

/** One line naming the field: `stack.local.portBase: Too small: expected number to be >=1024`. */
export function describeConfigIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid config";
  const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
  return `${where}: ${issue.message}`;
}

export function parseConfig(raw: unknown, source = "config"): CutoverConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new CutoverError(`invalid ${source}: ${describeConfigIssue(result.error)}`, EXIT.usage);
  }
  return result.data;
}

export interface LoadedConfig {
  config: CutoverConfig;
  file: string | undefined;
}

export async function loadConfig(opts: { file?: string; cwd?: string } = {}): Promise<LoadedConfig> {
  const file = findConfigFile(opts.file, opts.cwd);
  if (!file) return { config: parseConfig({}), file: undefined };
  const raw = await readRaw(file);
  const config = parseConfig(raw, path.basename(file));
  // A driver module named in a config file is found next to that file, wherever cutover runs.
  for (const d of Object.values(config.drivers)) d.module = path.resolve(path.dirname(file), d.module);
  return { config, file };
}
