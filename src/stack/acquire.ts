import type { CutoverConfig } from "../config/schema.js";
import { defaultProfile, type TargetProfile } from "../conformance/profile.js";
import { CutoverError, EXIT } from "../util/errors.js";
import { downDocker, readDockerState, upDocker } from "./docker/docker-stack.js";
import type { StackEndpoints } from "./endpoints.js";
import { externalTarget, probeExternal } from "./external/external-stack.js";
import { checkEndpoints, type EndpointCheck } from "./external/health.js";
import { downLocal, upLocal } from "./local/local-stack.js";
import type { ProgressSink } from "./progress.js";

/**
 * The provider switch: every command that needs a stack goes through here, and every
 * provider answers with the same endpoints object plus the target profile the suites adapt to.
 */

export type StackKind = CutoverConfig["stack"]["kind"];

/** A stack to run against: the one already up in the run dir, or one started for this command and stopped after. */
export interface StackHandle {
  endpoints: StackEndpoints;
  /** The local run dir, when there is one (logs and configs a suite may read). */
  runDir?: string;
  /** What the target offers and how it is configured; suites skip, with the reason, what it lacks. */
  profile: TargetProfile;
  startedHere: boolean;
  release(): Promise<void>;
}

/** The flag's (or config's) kind, except that a run dir holding a docker stack answers for it. */
export function stackKindFor(config: CutoverConfig, runDir: string): StackKind {
  if (config.stack.kind === "local" && readDockerState(runDir)) return "docker";
  return config.stack.kind;
}

export async function acquireStack(
  config: CutoverConfig,
  runDir: string,
  progress: ProgressSink,
): Promise<StackHandle> {
  switch (stackKindFor(config, runDir)) {
    case "local": {
      const up = await upLocal({ config, runDir, progress });
      const startedHere = up.kind === "started";
      return {
        endpoints: up.endpoints,
        runDir,
        profile: defaultProfile(),
        startedHere,
        release: async () => {
          if (startedHere) await downLocal(runDir);
        },
      };
    }
    case "docker": {
      const up = await upDocker({ config, runDir, progress, keep: false });
      // The gateway's config is in the run dir (mounted into its container), as on the local stack.
      return {
        endpoints: up.endpoints,
        runDir,
        profile: defaultProfile(),
        startedHere: up.kind === "started",
        release: up.release,
      };
    }
    case "external": {
      const target = externalTarget(config);
      await probeExternal(target.endpoints);
      return {
        endpoints: target.endpoints,
        ...(target.localRunDir ? { runDir: target.localRunDir } : {}),
        profile: target.profile,
        startedHere: false,
        release: async () => {},
      };
    }
  }
}

export interface StackUp {
  kind: "started" | "already-up" | "external";
  endpoints: StackEndpoints;
  ms: number;
}

/** `cutover up`: start (or find) the stack and leave it running. */
export async function upStack(
  config: CutoverConfig,
  runDir: string,
  progress: ProgressSink,
): Promise<StackUp> {
  switch (stackKindFor(config, runDir)) {
    case "local": {
      const up = await upLocal({ config, runDir, progress });
      return { kind: up.kind, endpoints: up.endpoints, ms: up.kind === "started" ? up.ms : 0 };
    }
    case "docker": {
      const up = await upDocker({ config, runDir, progress, keep: true });
      return { kind: up.kind, endpoints: up.endpoints, ms: up.ms };
    }
    case "external": {
      const began = performance.now();
      const target = externalTarget(config);
      await probeExternal(target.endpoints);
      return { kind: "external", endpoints: target.endpoints, ms: performance.now() - began };
    }
  }
}

/** `cutover status` of a stack known by its endpoints (docker, external); the local stack checks its processes too. */
export async function endpointStatus(
  config: CutoverConfig,
  runDir: string,
): Promise<{ endpoints: StackEndpoints; checks: EndpointCheck[] }> {
  const kind = stackKindFor(config, runDir);
  if (kind === "external") {
    const target = externalTarget(config);
    return { endpoints: target.endpoints, checks: await checkEndpoints(target.endpoints, target.profile) };
  }
  const state = readDockerState(runDir);
  if (!state)
    throw new CutoverError(
      `no docker stack in ${runDir} (start one with \`cutover up --stack docker\`)`,
      EXIT.failures,
    );
  return { endpoints: state.endpoints, checks: await checkEndpoints(state.endpoints, defaultProfile()) };
}

/** `cutover down` for docker and external; one line saying what was done. */
export async function downStack(config: CutoverConfig, runDir: string): Promise<string> {
  switch (stackKindFor(config, runDir)) {
    case "external":
      return `nothing to stop: the external stack (${config.stack.external.nginx ?? "stack.external"}) is not started by cutover`;
    case "docker": {
      const down = await downDocker(runDir);
      return down.hadStack
        ? `removed docker project ${down.projectName} (containers, network, volumes; logs kept in ${down.runDir}/logs)`
        : `no docker stack in ${down.runDir}`;
    }
    case "local": {
      const down = await downLocal(runDir);
      return down.hadStack
        ? `stopped ${down.stopped} processes (logs kept in ${down.runDir}/logs)`
        : `no stack in ${down.runDir}`;
    }
  }
}
