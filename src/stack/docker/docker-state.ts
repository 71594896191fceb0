import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { stackEndpointsSchema } from "../endpoints.js";
import { runDirLayout } from "../local/layout.js";
import type { ComposeProject } from "./docker-engine.js";

/** What a run dir remembers of a docker stack between `up`, `status`, `run` and `down`. */
const dockerStateSchema = z.object({
  kind: z.literal("docker"),
  projectName: z.string(),
  composeFile: z.string(),
  environment: z.record(z.string(), z.string()),
  compose: z.object({ kind: z.enum(["plugin", "standalone"]), executablePath: z.string().optional() }),
  dockerHost: z.string(),
  startedAt: z.string(),
  endpoints: stackEndpointsSchema,
});

export type DockerState = z.infer<typeof dockerStateSchema> & ComposeProject;

export const dockerStateFile = (runDir: string) => path.join(runDirLayout(runDir).root, "docker-state.json");

export function readDockerState(runDir: string): DockerState | undefined {
  const file = dockerStateFile(runDir);
  if (!existsSync(file)) return undefined;
  try {
    return dockerStateSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch {
    return undefined;
  }
}

/** 0600: the environment holds the OpenIM secret and the gateway's config (its JWT key). */
export function writeDockerState(runDir: string, state: DockerState): void {
  writeFileSync(dockerStateFile(runDir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export function removeDockerState(runDir: string): void {
  rmSync(dockerStateFile(runDir), { force: true });
}
