import type { Command } from "commander";
import { loadConfig } from "../config/load.js";
import type { CutoverConfig } from "../config/schema.js";

export interface StackOptions {
  runDir?: string;
  config?: string;
  stack?: string;
  json?: boolean;
}

/** Adds the options every stack-touching command shares. */
export function withStackOptions(cmd: Command): Command {
  return cmd
    .option("--run-dir <dir>", "where the stack's config, pids, logs and data live (env CUTOVER_RUN_DIR)")
    .option(
      "-c, --config <file>",
      "config file (default: cutover.config.{ts,mjs,js,yaml,yml,json} if present)",
    );
}

export interface ResolvedStackOptions {
  config: CutoverConfig;
  runDir: string;
}

/** Precedence: flag, then environment, then config file, then default. */
export async function resolveStackOptions(opts: StackOptions): Promise<ResolvedStackOptions> {
  const { config } = await loadConfig({ file: opts.config });
  if (opts.stack) config.stack.kind = opts.stack as CutoverConfig["stack"]["kind"];
  const runDir = opts.runDir ?? process.env.CUTOVER_RUN_DIR ?? config.stack.runDir;
  return { config, runDir };
}
