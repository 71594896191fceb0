import { existsSync } from "node:fs";
import path from "node:path";
import type { CutoverConfig } from "../config/schema.js";
import type { StackEndpoints } from "./endpoints.js";
import type { HealthCheck } from "./health-check.js";
import type { ProgressSink } from "./progress.js";
import type { StackHandle, StackProvider, StackUp } from "./provider.js";
import { STACK_PROVIDERS } from "./providers.js";
import type { StackKind } from "./stack-kinds.js";

/**
 * Every command that needs a stack goes through here: the config (or flag) names the provider,
 * except that a run dir holding a docker stack answers for it.
 */

export type { StackHandle, StackKind, StackUp };

/** The docker provider's state file, read without loading the provider (it pulls in testcontainers). */
const DOCKER_STATE = "docker-state.json";

export function stackKindFor(config: CutoverConfig, runDir: string): StackKind {
  if (config.stack.kind === "local" && existsSync(path.join(runDir, DOCKER_STATE))) return "docker";
  return config.stack.kind;
}

async function providerFor(config: CutoverConfig, runDir: string): Promise<StackProvider> {
  return STACK_PROVIDERS[stackKindFor(config, runDir)]();
}

export async function acquireStack(
  config: CutoverConfig,
  runDir: string,
  progress: ProgressSink,
  opts: { keep?: boolean } = {},
): Promise<StackHandle> {
  return (await providerFor(config, runDir)).acquire({ config, runDir, progress, keep: opts.keep === true });
}

/** `cutover up`: start (or find) the stack and leave it running. */
export async function upStack(
  config: CutoverConfig,
  runDir: string,
  progress: ProgressSink,
): Promise<StackUp> {
  return (await providerFor(config, runDir)).up({ config, runDir, progress });
}

/** `cutover status` of a stack known by its endpoints (docker, external); the local stack checks its processes too. */
export async function endpointStatus(
  config: CutoverConfig,
  runDir: string,
): Promise<{ endpoints: StackEndpoints; checks: HealthCheck[] }> {
  return (await providerFor(config, runDir)).status({ config, runDir, progress: () => {} });
}

/** `cutover down`; one line saying what was done. */
export async function downStack(config: CutoverConfig, runDir: string): Promise<string> {
  return (await providerFor(config, runDir)).down({ config, runDir, progress: () => {} });
}
