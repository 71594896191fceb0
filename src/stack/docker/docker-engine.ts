import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";

/**
 * Everything that talks to the Docker engine or runs Compose, and nothing else: the docker
 * provider's logic (readiness, health, logs, refusals) is tested with this module faked.
 *
 * Finding the engine answers in two seconds, the way testcontainers will find it: without an
 * engine, `--stack docker` must fail fast with one line, not after the library's retries.
 * testcontainers is imported only once an engine answers, so a machine without one never loads it.
 */

export type EngineAddress =
  | { kind: "unix"; socketPath: string; source: string }
  | { kind: "tcp"; host: string; port: number; tls: boolean; source: string }
  /** npipe:// or ssh://: not probed here; testcontainers gets to try it. */
  | { kind: "other"; url: string; source: string };

export type DockerEngine =
  | { ok: true; address: EngineAddress; dockerHost: string; local: boolean }
  | { ok: false; reason: string };

/** DOCKER_HOST as docker and testcontainers read it. */
export function parseDockerHost(value: string, source: string): EngineAddress {
  if (value.startsWith("unix://")) return { kind: "unix", socketPath: value.slice("unix://".length), source };
  if (value.startsWith("tcp://") || value.startsWith("http://") || value.startsWith("https://")) {
    const url = new URL(value.replace(/^tcp:/, "http:"));
    const tls = value.startsWith("https://") || process.env.DOCKER_TLS_VERIFY === "1";
    return { kind: "tcp", host: url.hostname, port: Number(url.port || (tls ? 2376 : 2375)), tls, source };
  }
  return { kind: "other", url: value, source };
}

/** docker.host from ~/.testcontainers.properties, which testcontainers also honours. */
function propertiesDockerHost(home: string): string | undefined {
  const file = path.join(home, ".testcontainers.properties");
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, "utf8")
    .split("\n")
    .find((l) => /^\s*docker\.host\s*=/.test(l));
  return line?.split("=").slice(1).join("=").trim() || undefined;
}

/** Sockets the usual engines listen on (rootful, rootless, Docker Desktop, Colima, Rancher Desktop). */
export function candidateSockets(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string[] {
  const uid = process.getuid?.();
  return [
    "/var/run/docker.sock",
    env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, "docker.sock") : undefined,
    uid !== undefined ? `/run/user/${uid}/docker.sock` : undefined,
    path.join(home, ".docker", "run", "docker.sock"),
    path.join(home, ".docker", "desktop", "docker.sock"),
    path.join(home, ".colima", "default", "docker.sock"),
    path.join(home, ".rd", "docker.sock"),
  ].filter((p): p is string => p !== undefined);
}

function ping(options: http.RequestOptions, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.request({ ...options, method: "GET", path: "/_ping", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `/_ping answered HTTP ${res.statusCode}`);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err) => resolve(err.message));
    req.end();
  });
}

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      resolve(`no answer within ${timeoutMs} ms`);
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once("error", (err) => resolve(err.message));
  });
}

const isLoopback = (host: string) => host === "localhost" || host.startsWith("127.") || host === "::1";

/** Resolves the engine address and checks that something answers there. */
export async function findDockerEngine(
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 2000,
): Promise<DockerEngine> {
  const home = os.homedir();
  const configured = env.DOCKER_HOST
    ? parseDockerHost(env.DOCKER_HOST, "DOCKER_HOST")
    : (() => {
        const fromProperties = propertiesDockerHost(home);
        return fromProperties ? parseDockerHost(fromProperties, "~/.testcontainers.properties") : undefined;
      })();
  if (configured?.kind === "other")
    // npipe:// is Docker Desktop on this Windows machine; ssh:// (and anything else) is another host.
    return {
      ok: true,
      address: configured,
      dockerHost: configured.url,
      local: configured.url.startsWith("npipe://"),
    };
  if (configured?.kind === "tcp") {
    const problem = configured.tls
      ? await tcpOpen(configured.host, configured.port, timeoutMs)
      : await ping({ host: configured.host, port: configured.port }, timeoutMs);
    if (problem)
      return {
        ok: false,
        reason: `nothing answers at tcp://${configured.host}:${configured.port} (${configured.source}): ${problem}`,
      };
    return {
      ok: true,
      address: configured,
      dockerHost: `tcp://${configured.host}:${configured.port}`,
      local: isLoopback(configured.host),
    };
  }
  const sockets = configured?.kind === "unix" ? [configured.socketPath] : candidateSockets(env, home);
  const present = sockets.filter((s) => existsSync(s));
  if (present.length === 0) {
    return {
      ok: false,
      reason: configured
        ? `no socket at ${sockets[0]} (${configured.source})`
        : "no socket at /var/run/docker.sock (nor a rootless or Desktop one) and DOCKER_HOST is unset",
    };
  }
  const problems: string[] = [];
  for (const socketPath of present) {
    const problem = await ping({ socketPath }, timeoutMs);
    if (!problem) {
      return {
        ok: true,
        address: { kind: "unix", socketPath, source: configured?.source ?? "default socket" },
        dockerHost: `unix://${socketPath}`,
        local: true,
      };
    }
    problems.push(`${socketPath}: ${problem}`);
  }
  return { ok: false, reason: `nothing answers at ${problems.join("; ")}` };
}

export type ComposeCli =
  | { kind: "plugin"; version: string }
  | { kind: "standalone"; version: string; executablePath: string };

function versionOf(command: string, args: string[]): string | undefined {
  const res = spawnSync(command, args, { encoding: "utf8", timeout: 10_000 });
  if (res.status !== 0) return undefined;
  return res.stdout.trim().split("\n")[0]?.trim() || undefined;
}

/** Docker Compose v2 (`docker compose`) or a standalone `docker-compose` (Debian's 1.29 validates but is legacy). */
export function findComposeCli(): ComposeCli | undefined {
  const plugin = versionOf("docker", ["compose", "version", "--short"]);
  if (plugin) return { kind: "plugin", version: plugin };
  const standalone = versionOf("docker-compose", ["version", "--short"]);
  if (standalone) return { kind: "standalone", version: standalone, executablePath: "docker-compose" };
  return undefined;
}

/** One compose project as cutover started it: enough to run Compose against it again later. */
export interface ComposeProject {
  projectName: string;
  composeFile: string;
  environment: Record<string, string>;
  compose: { kind: "plugin" | "standalone"; executablePath?: string | undefined };
}

export interface ProjectContainer {
  id: string;
  service: string;
  /** The engine's state: running, exited, restarting, … */
  state: string;
  /** healthy, unhealthy or starting; undefined when the image has no health check. */
  health: string | undefined;
}

export interface ComposeUpOptions {
  startTimeoutMs: number;
  /** false: no reaper, the stack outlives this process (`up`, `--keep`). */
  autoCleanup: boolean;
}

const composeExecutable = (cli: ComposeProject["compose"]) =>
  cli.kind === "standalone" && cli.executablePath
    ? { standalone: true as const, executablePath: cli.executablePath }
    : undefined;

/** `docker compose up --build`, waiting for every service's health check (testcontainers drives it). */
export async function composeUp(
  project: ComposeProject,
  opts: ComposeUpOptions,
): Promise<{ down(): Promise<void> }> {
  const { DockerComposeEnvironment, Wait } = await import("testcontainers");
  let environment = new DockerComposeEnvironment(
    path.dirname(project.composeFile),
    path.basename(project.composeFile),
  )
    .withProjectName(project.projectName)
    .withEnvironment(project.environment)
    .withBuild()
    .withDefaultWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(opts.startTimeoutMs)
    .withAutoCleanup(opts.autoCleanup);
  const executable = composeExecutable(project.compose);
  if (executable) environment = environment.withClientOptions({ executable });
  const started = await environment.up();
  return {
    down: async () => {
      await started.down({ removeVolumes: true, timeout: 10_000 });
    },
  };
}

/** `docker compose down -v` of a project started earlier, perhaps by another process. */
export async function composeDown(project: ComposeProject): Promise<void> {
  const { getContainerRuntimeClient } = await import("testcontainers");
  const client = await getContainerRuntimeClient();
  await client.compose.down(
    {
      filePath: path.dirname(project.composeFile),
      files: path.basename(project.composeFile),
      projectName: project.projectName,
      environment: project.environment,
      executable: composeExecutable(project.compose),
    },
    { removeVolumes: true, timeout: 10_000 },
  );
}

/** The project's containers (stopped ones too), by the labels every Compose version sets. */
export async function projectContainers(projectName: string): Promise<ProjectContainer[]> {
  const { getContainerRuntimeClient } = await import("testcontainers");
  const client = await getContainerRuntimeClient();
  const listed = await client.container.dockerode.listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${projectName}`] },
  });
  return Promise.all(
    listed.map(async (c) => {
      const inspect = await client.container.inspect(client.container.getById(c.Id));
      return {
        id: c.Id,
        service: c.Labels["com.docker.compose.service"] ?? c.Id.slice(0, 12),
        state: inspect.State.Status,
        health: inspect.State.Health?.Status,
      };
    }),
  );
}

/** A container's stdout and stderr, followed, from `sinceSeconds` (Unix time; 0: from its start). */
export async function followContainerLogs(containerId: string, sinceSeconds: number): Promise<Readable> {
  const { getContainerRuntimeClient } = await import("testcontainers");
  const client = await getContainerRuntimeClient();
  return client.container.logs(client.container.getById(containerId), { since: sinceSeconds });
}
