import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import type { ContainerRuntimeClient, StartedDockerComposeEnvironment } from "testcontainers";
import { z } from "zod";
import type { CutoverConfig } from "../../config/schema.js";
import { CutoverError, EXIT, errorMessage } from "../../util/errors.js";
import { type StackEndpoints, stackEndpointsSchema } from "../endpoints.js";
import { runDirLayout } from "../local/layout.js";
import { httpGetOk } from "../local/net-probes.js";
import { pickFreePorts } from "../local/ports.js";
import { tailLog } from "../local/processes.js";
import { liveness, readState } from "../local/state.js";
import { type ProgressSink, step } from "../progress.js";
import { composeFilePath, readComposeFile } from "./compose-file.js";
import { type ComposeCli, type DockerEngine, findComposeCli, findDockerEngine } from "./docker-engine.js";
import {
  assignDockerPorts,
  composeEnvironment,
  type DockerStackInput,
  dockerEndpoints,
  dockerGatewayConfig,
  dockerParts,
  FALLBACK_PORTS,
  PUBLISHED_PORTS,
} from "./services.js";

/** What a run dir remembers of a docker stack between `up`, `status` and `down`. */
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

export type DockerState = z.infer<typeof dockerStateSchema>;

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

/** The one line a user sees when there is no engine; nothing from testcontainers is even loaded. */
export async function requireDockerEngine(): Promise<Extract<DockerEngine, { ok: true }>> {
  const engine = await findDockerEngine();
  if (!engine.ok) {
    throw new CutoverError(
      `--stack docker needs a Docker engine and none answers here (${engine.reason}): start Docker or set DOCKER_HOST, or use --stack local`,
      EXIT.stack,
    );
  }
  return engine;
}

function requireComposeCli(): ComposeCli {
  const cli = findComposeCli();
  if (!cli) {
    throw new CutoverError(
      "--stack docker needs Docker Compose: neither `docker compose` nor `docker-compose` runs here",
      EXIT.stack,
    );
  }
  return cli;
}

const composeExecutable = (cli: DockerState["compose"]) =>
  cli.kind === "standalone" ? { standalone: true as const, executablePath: cli.executablePath } : undefined;

/**
 * Follows every container of the compose project into <run dir>/logs/<service>.log, from the
 * moment it exists: the logs outlive a failed start (testcontainers removes the containers),
 * and during a conformance run the server-log scan reads them as it reads the local stack's.
 */
class ComposeLogTap {
  private readonly seen = new Set<string>();
  private readonly streams: Readable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: ContainerRuntimeClient,
    private readonly projectName: string,
    private readonly dir: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), 1000);
    this.timer.unref();
  }

  async poll(): Promise<void> {
    const containers = await this.client.container.dockerode
      .listContainers({ all: true, filters: { label: [`com.docker.compose.project=${this.projectName}`] } })
      .catch(() => []);
    for (const c of containers) {
      if (this.seen.has(c.Id)) continue;
      this.seen.add(c.Id);
      const service = c.Labels["com.docker.compose.service"] ?? c.Id.slice(0, 12);
      const stream = await this.client.container.logs(this.client.container.getById(c.Id));
      stream.pipe(createWriteStream(path.join(this.dir, `${service}.log`), { flags: "a" }));
      this.streams.push(stream);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.streams.splice(0)) s.destroy();
  }
}

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
  /** Stops what this call started (a no-op for a stack that was already up). */
  release(): Promise<void>;
}

export interface DockerUpOptions {
  config: CutoverConfig;
  runDir: string;
  progress: ProgressSink;
  /**
   * true for `cutover up`: the stack outlives this process, so testcontainers' reaper must not
   * remove it at exit. false when a command starts it for itself (its reaper cleans up after a crash).
   */
  keep: boolean;
}

export async function upDocker(opts: DockerUpOptions): Promise<DockerUp> {
  const { config, runDir, progress } = opts;
  const layout = runDirLayout(runDir);
  const previous = readDockerState(runDir);
  if (previous && (await httpGetOk(`${previous.endpoints.nginx}/healthz`).catch(() => false))) {
    return { kind: "already-up", endpoints: previous.endpoints, ms: 0, release: async () => {} };
  }
  const engine = await requireDockerEngine();
  const cli = requireComposeCli();
  if (liveness(readState(layout.state)).kind === "live") {
    throw new CutoverError(
      `a local stack is up in ${layout.root}: stop it (cutover down) or use another --run-dir`,
      EXIT.usage,
    );
  }
  if (previous) await downDocker(runDir).catch(() => undefined);

  const began = performance.now();
  mkdirSync(layout.config, { recursive: true });
  mkdirSync(layout.logs, { recursive: true });
  const composeFile = composeFilePath();
  const compose = readComposeFile(composeFile);
  const input: DockerStackInput = {
    host: engine.address.kind === "tcp" && !engine.local ? engine.address.host : "127.0.0.1",
    ports: engine.local
      ? assignDockerPorts(await pickFreePorts(PUBLISHED_PORTS.length, config.stack.docker.portBase))
      : FALLBACK_PORTS,
    adminSecret: config.openim.adminSecret,
    adminUserID: config.openim.adminUserID,
    gatewayAdmin: { userID: "cutover_admin", password: randomBytes(18).toString("base64url") },
    gatewayConfigDir: layout.config,
    user: { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 },
  };
  writeFileSync(
    path.join(layout.config, "gateway.json"),
    `${JSON.stringify(dockerGatewayConfig(input, randomBytes(32).toString("base64url")), null, 2)}\n`,
    { mode: 0o600 },
  );
  const environment = composeEnvironment(input);
  const projectName = `cutover-${randomBytes(4).toString("hex")}`;
  const state: DockerState = {
    kind: "docker",
    projectName,
    composeFile,
    environment,
    compose:
      cli.kind === "standalone" ? { kind: cli.kind, executablePath: cli.executablePath } : { kind: cli.kind },
    dockerHost: engine.dockerHost,
    startedAt: new Date().toISOString(),
    endpoints: dockerEndpoints(input, dockerParts(compose.services)),
  };

  // testcontainers reads the engine address from the environment; point it at the one found.
  process.env.DOCKER_HOST ??= engine.dockerHost;
  const { DockerComposeEnvironment, Wait, getContainerRuntimeClient } = await import("testcontainers");
  const client = await getContainerRuntimeClient();
  const tap = new ComposeLogTap(client, projectName, layout.logs);
  let environmentUp = new DockerComposeEnvironment(path.dirname(composeFile), path.basename(composeFile))
    .withProjectName(projectName)
    .withEnvironment(environment)
    .withBuild()
    .withDefaultWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(config.stack.docker.startTimeoutMs)
    .withAutoCleanup(!opts.keep);
  const executable = composeExecutable(state.compose);
  if (executable) environmentUp = environmentUp.withClientOptions({ executable });

  tap.start();
  let started: StartedDockerComposeEnvironment;
  try {
    started = await step(
      progress,
      `docker compose (${Object.keys(compose.services).length} services, project ${projectName})`,
      () => environmentUp.up(),
      () => `nginx ${state.endpoints.nginx}`,
    );
  } catch (err) {
    await tap.poll().catch(() => undefined);
    tap.stop();
    const message = lastLine(errorMessage(err));
    const service = failedService(message, Object.keys(compose.services));
    const log = service ? path.join(layout.logs, `${service}.log`) : undefined;
    throw new CutoverError(
      `the docker stack failed to start: ${message} (logs: ${layout.logs})`,
      EXIT.stack,
      log && existsSync(log) ? tailLog(log) : undefined,
    );
  }
  writeFileSync(dockerStateFile(runDir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  if (opts.keep) tap.stop();
  return {
    kind: "started",
    endpoints: state.endpoints,
    ms: performance.now() - began,
    release: async () => {
      tap.stop();
      await started.down({ removeVolumes: true, timeout: 10_000 });
      rmSync(dockerStateFile(runDir), { force: true });
    },
  };
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
  process.env.DOCKER_HOST ??= state.dockerHost;
  const { getContainerRuntimeClient } = await import("testcontainers");
  const client = await getContainerRuntimeClient();
  try {
    await client.compose.down(
      {
        filePath: path.dirname(state.composeFile),
        files: path.basename(state.composeFile),
        projectName: state.projectName,
        environment: state.environment,
        executable: composeExecutable(state.compose),
      },
      { removeVolumes: true, timeout: 10_000 },
    );
  } catch (err) {
    throw new CutoverError(
      `docker compose down of ${state.projectName} failed: ${lastLine(errorMessage(err))}`,
      EXIT.failures,
    );
  }
  rmSync(dockerStateFile(runDir), { force: true });
  return { hadStack: true, runDir: root, projectName: state.projectName };
}
