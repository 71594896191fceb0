import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CutoverConfig } from "../../config/schema.js";
import { CutoverError, EXIT, errorMessage } from "../../util/errors.js";
import type { StackEndpoints } from "../endpoints.js";
import { runDirLayout } from "../local/layout.js";
import { httpGetOk } from "../local/net-probes.js";
import { pickFreePorts } from "../local/ports.js";
import { tailLog } from "../local/processes.js";
import { liveness, readState } from "../local/state.js";
import { type ProgressSink, step } from "../progress.js";
import { composeFilePath, readComposeFile } from "./compose-file.js";
import { composeDown, composeUp } from "./docker-engine.js";
import { waitDockerReady } from "./docker-ready.js";
import { type DockerState, readDockerState, removeDockerState, writeDockerState } from "./docker-state.js";
import { composeLogTap } from "./log-tap.js";
import { watchOpenImStart } from "./openim-start-failure.js";
import { refuseRemoteEngine, requireComposeCli, requireDockerEngine } from "./require-engine.js";
import {
  assignDockerPorts,
  composeEnvironment,
  type DockerStackInput,
  dockerEndpoints,
  dockerGatewayConfig,
  dockerParts,
  PUBLISHED_PORTS,
} from "./services.js";

export { type DockerState, readDockerState, requireDockerEngine };

/** The compose service a failure names ("container cutover-ab12-openim-server-1 is unhealthy"), if any. */
export function failedService(message: string, services: string[]): string | undefined {
  const byLength = [...services].sort((a, b) => b.length - a.length);
  return byLength.find((s) => new RegExp(`[-_]${s}[-_]\\d+\\b`).test(message));
}

const lastLine = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .pop() ?? text;

export interface DockerUp {
  kind: "started" | "already-up";
  endpoints: StackEndpoints;
  ms: number;
  /** The state of the stack held, for health checks. */
  state: DockerState;
  /** Stops what this call started (for a stack that was already up: only the log tap). */
  release(): Promise<void>;
  /** Leaves the stack running and stops following its logs (`cutover up`, whose process ends now). */
  detach(): void;
}

export interface DockerUpOptions {
  config: CutoverConfig;
  runDir: string;
  progress: ProgressSink;
  /**
   * true when the stack must outlive this process (`cutover up`, `run --keep`): testcontainers'
   * reaper must not remove it at exit, or docker-state.json would point at nothing. false when a
   * command starts it for itself (its reaper cleans up after a crash).
   */
  keep: boolean;
}

/** The stack `up` left running: found by its nginx, and its logs tapped from now on for this command's scan. */
async function alreadyUp(runDir: string): Promise<DockerUp | undefined> {
  const previous = readDockerState(runDir);
  if (!previous) return undefined;
  if (!(await httpGetOk(`${previous.endpoints.nginx}/healthz`).catch(() => false))) return undefined;
  const logs = runDirLayout(runDir).logs;
  mkdirSync(logs, { recursive: true });
  const tap = composeLogTap(previous.projectName, logs, Math.floor(Date.now() / 1000));
  tap.start();
  await tap.poll().catch(() => undefined);
  return {
    kind: "already-up",
    endpoints: previous.endpoints,
    ms: 0,
    state: previous,
    release: async () => tap.stop(),
    detach: () => tap.stop(),
  };
}

export async function upDocker(opts: DockerUpOptions): Promise<DockerUp> {
  const { config, runDir, progress } = opts;
  const layout = runDirLayout(runDir);
  const found = await alreadyUp(runDir);
  if (found) return found;
  const engine = refuseRemoteEngine(await requireDockerEngine());
  const cli = requireComposeCli();
  if (liveness(readState(layout.state)).kind === "live") {
    throw new CutoverError(
      `a local stack is up in ${layout.root}: stop it (cutover down) or use another --run-dir`,
      EXIT.usage,
    );
  }
  if (readDockerState(runDir)) await downDocker(runDir).catch(() => undefined);

  const began = performance.now();
  mkdirSync(layout.config, { recursive: true });
  mkdirSync(layout.logs, { recursive: true });
  const composeFile = composeFilePath();
  const compose = readComposeFile(composeFile);
  const input: DockerStackInput = {
    // The engine is on this machine (refuseRemoteEngine), so its ports are published here.
    host: "127.0.0.1",
    ports: assignDockerPorts(await pickFreePorts(PUBLISHED_PORTS.length, config.stack.docker.portBase)),
    adminSecret: config.openim.adminSecret,
    adminUserID: config.openim.adminUserID,
    gatewayAdmin: { userID: "cutover_admin", password: randomBytes(18).toString("base64url") },
  };
  const gatewayConfig = dockerGatewayConfig(input, randomBytes(32).toString("base64url"));
  // The suites read the gateway's config from the run dir, as on the local stack; the container gets it by variable.
  writeFileSync(path.join(layout.config, "gateway.json"), `${JSON.stringify(gatewayConfig, null, 2)}\n`, {
    mode: 0o600,
  });
  const projectName = `cutover-${randomBytes(4).toString("hex")}`;
  const state: DockerState = {
    kind: "docker",
    projectName,
    composeFile,
    environment: composeEnvironment(input, gatewayConfig),
    compose:
      cli.kind === "standalone" ? { kind: cli.kind, executablePath: cli.executablePath } : { kind: cli.kind },
    dockerHost: engine.dockerHost,
    startedAt: new Date().toISOString(),
    endpoints: dockerEndpoints(input, dockerParts(compose.services)),
  };

  // testcontainers and the compose CLI read the engine address from the environment; point both at the one found.
  process.env.DOCKER_HOST ??= engine.dockerHost;
  const tap = composeLogTap(projectName, layout.logs);
  const openimStart = watchOpenImStart(path.join(layout.logs, "openim-server.log"));
  let down: (() => Promise<void>) | undefined;
  const fail = async (err: unknown): Promise<never> => {
    await tap.poll().catch(() => undefined);
    tap.stop();
    openimStart.stop();
    // Without the reaper (keep), nothing else would remove a stack that never became ready.
    await (down ? down() : downProject(state)).catch(() => undefined);
    const message = lastLine(errorMessage(err));
    const service = failedService(message, Object.keys(compose.services));
    const log = service ? path.join(layout.logs, `${service}.log`) : undefined;
    throw new CutoverError(
      `the docker stack failed to start: ${message} (logs: ${layout.logs})`,
      EXIT.stack,
      log && existsSync(log) ? tailLog(log) : undefined,
    );
  };

  tap.start();
  try {
    const started = await step(
      progress,
      `docker compose (${Object.keys(compose.services).length} services, project ${projectName})`,
      () => {
        const upping = composeUp(state, {
          startTimeoutMs: config.stack.docker.startTimeoutMs,
          autoCleanup: !opts.keep,
        });
        // When the memory watch wins the race, compose's own failure comes later and is no news.
        upping.catch(() => undefined);
        // OpenIM's start script gives up in seconds; the health check would say so minutes later.
        return Promise.race([upping, openimStart.failed]);
      },
      () => `nginx ${state.endpoints.nginx}`,
    );
    down = started.down;
    openimStart.stop();
    // Written before the readiness checks, so a stack that fails them can still be taken down.
    writeDockerState(runDir, state);
    await waitDockerReady({
      projectName,
      services: Object.keys(compose.services),
      endpoints: state.endpoints,
      timeoutMs: config.stack.docker.startTimeoutMs,
      progress,
    });
  } catch (err) {
    removeDockerState(runDir);
    return fail(err);
  }
  const stop = down;
  return {
    kind: "started",
    endpoints: state.endpoints,
    ms: performance.now() - began,
    state,
    release: async () => {
      tap.stop();
      await stop?.();
      removeDockerState(runDir);
    },
    // A later command taps the logs again, from when it takes the stack, while it holds it.
    detach: () => tap.stop(),
  };
}

async function downProject(state: DockerState): Promise<void> {
  process.env.DOCKER_HOST ??= state.dockerHost;
  await composeDown(state);
}

export interface DockerDown {
  hadStack: boolean;
  runDir: string;
  projectName?: string;
}

/** `docker compose down -v` of the project the run dir remembers; its logs stay in the run dir. */
export async function downDocker(runDir: string): Promise<DockerDown> {
  const root = runDirLayout(runDir).root;
  const state = readDockerState(runDir);
  if (!state) return { hadStack: false, runDir: root };
  await requireDockerEngine();
  try {
    await downProject(state);
  } catch (err) {
    throw new CutoverError(
      `docker compose down of ${state.projectName} failed: ${lastLine(errorMessage(err))}`,
      EXIT.failures,
    );
  }
  removeDockerState(runDir);
  return { hadStack: true, runDir: root, projectName: state.projectName };
}
