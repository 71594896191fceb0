import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { parseConfig } from "../../config/load.js";
import { CutoverError, UsageError } from "../../util/errors.js";
import { readComposeFile } from "./compose-file.js";
import type { ComposeProject, ComposeUpOptions, DockerEngine, ProjectContainer } from "./docker-engine.js";
import { dockerStateFile, writeDockerState } from "./docker-state.js";
import { dockerEndpoints, dockerParts } from "./services.js";

// The provider's logic with the engine faked at its one boundary (docker-engine.ts): what it
// asks the engine to do, what it makes of the engine's answers. No container runs here.

const engine = vi.hoisted(() => ({
  found: undefined as DockerEngine | undefined,
  upCalls: [] as Array<{ project: ComposeProject; opts: ComposeUpOptions }>,
  /** undefined: composeUp never settles (a start that hangs until the health check gives up). */
  upResult: undefined as undefined | "resolve",
  downCalls: [] as string[],
  containers: [] as ProjectContainer[],
  logs: new Map<string, string>(),
  follows: [] as Array<{ id: string; since: number }>,
}));

vi.mock("./docker-engine.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("./docker-engine.js")>();
  return {
    ...real,
    findDockerEngine: async () => engine.found,
    findComposeCli: () => ({ kind: "plugin", version: "2.30.0" }),
    composeUp: (project: ComposeProject, opts: ComposeUpOptions) => {
      engine.upCalls.push({ project, opts });
      if (engine.upResult === "resolve") return Promise.resolve({ down: async () => {} });
      return new Promise(() => {});
    },
    composeDown: async (project: ComposeProject) => {
      engine.downCalls.push(project.projectName);
    },
    projectContainers: async () => engine.containers,
    followContainerLogs: async (id: string, since: number): Promise<Readable> => {
      engine.follows.push({ id, since });
      const stream = new PassThrough();
      stream.end(engine.logs.get(id) ?? "");
      return stream;
    },
  };
});

const { upDocker } = await import("./docker-stack.js");
const { dockerProvider } = await import("./provider.js");

const localEngine: DockerEngine = {
  ok: true,
  address: { kind: "unix", socketPath: "/var/run/docker.sock", source: "default socket" },
  dockerHost: "unix:///var/run/docker.sock",
  local: true,
};
const services = Object.keys(readComposeFile().services);
const config = (startTimeoutMs: number) =>
  parseConfig({ stack: { kind: "docker", docker: { startTimeoutMs } } }, "test");
const progress = () => {};
let runDir: string;

beforeEach(() => {
  runDir = path.join(mkdtempSync(path.join(os.tmpdir(), "cutover-docker-stack-")), "run");
  Object.assign(engine, { found: localEngine, upCalls: [], upResult: undefined, downCalls: [], follows: [] });
  engine.containers = [];
  engine.logs.clear();
});

const savedDockerHost = process.env.DOCKER_HOST;
afterEach(() => {
  if (savedDockerHost === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = savedDockerHost;
});

async function failure(work: Promise<unknown>): Promise<CutoverError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CutoverError)) throw new Error(`expected a CutoverError, got ${String(err)}`);
  return err;
}

describe("an engine cutover cannot drive", () => {
  test.each([
    ["ssh://me@build-box", { kind: "other", url: "ssh://me@build-box", source: "DOCKER_HOST" }],
    ["tcp://10.0.0.5:2375", { kind: "tcp", host: "10.0.0.5", port: 2375, tls: false, source: "DOCKER_HOST" }],
  ] as const)("%s is refused in one line, before anything starts", async (dockerHost, address) => {
    engine.found = { ok: true, address, dockerHost, local: false };
    const err = await failure(upDocker({ config: config(60_000), runDir, progress, keep: false }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain(`${dockerHost} (DOCKER_HOST) is remote`);
    expect(err.message).toContain("--stack external");
    expect(err.message.split("\n")).toHaveLength(1);
    expect(engine.upCalls).toEqual([]);
  });
});

describe("starting a stack", () => {
  test("OpenIM's start script finding too little memory fails the start in seconds, with its reason, and removes the stack", async () => {
    engine.containers = [{ id: "c-openim", service: "openim-server", state: "running", health: "starting" }];
    engine.logs.set(
      "c-openim",
      "[mage] start tools\nSystem available memory is less than 1GB: 0.62GB\n[mage] check-free-memory failed\n",
    );
    const began = performance.now();
    const err = await failure(upDocker({ config: config(180_000), runDir, progress, keep: true }));
    expect(performance.now() - began).toBeLessThan(5000);
    expect(err.message).toMatch(
      /^the docker stack failed to start: OpenIM did not start: its start script found 0\.62 GB of memory available and needs 1 GB/,
    );
    expect(err.message.split("\n")).toHaveLength(1);
    // Kept (no reaper): cutover takes it down itself, and remembers nothing of it.
    expect(engine.downCalls).toEqual([engine.upCalls[0]!.project.projectName]);
    expect(existsSync(dockerStateFile(runDir))).toBe(false);
  });

  test("--keep starts the stack without the reaper; a command's own stack with it", async () => {
    engine.upResult = "resolve";
    engine.containers = services.map((service) => ({
      id: service,
      service,
      state: "running",
      health: "healthy",
    }));
    // Readiness then fails fast: no OpenIM answers on the picked ports. What matters is how compose was asked.
    await failure(upDocker({ config: config(300), runDir, progress, keep: true }));
    await failure(upDocker({ config: config(300), runDir, progress, keep: false }));
    expect(engine.upCalls.map((c) => c.opts.autoCleanup)).toEqual([false, true]);
  });

  test("compose returning is not readiness: a service not yet healthy fails the start, naming it", async () => {
    engine.upResult = "resolve";
    engine.containers = services.map((service) => ({
      id: service,
      service,
      state: "running",
      health: service === "kafka" ? "unhealthy" : "healthy",
    }));
    const err = await failure(upDocker({ config: config(300), runDir, progress, keep: false }));
    expect(err.message).toMatch(/compose services: not ready after .*\(kafka: unhealthy\)/);
  });

  test("the gateway's config goes to compose as a variable; the run dir's copy is 0600 and no mount names it", async () => {
    engine.upResult = "resolve";
    await failure(upDocker({ config: config(300), runDir, progress, keep: false }));
    const env = engine.upCalls[0]!.project.environment;
    expect(env.CUTOVER_GATEWAY_CONFIG_DIR).toBeUndefined();
    const file = path.join(runDir, "config", "gateway.json");
    expect(JSON.parse(env.CUTOVER_GATEWAY_CONFIG_JSON!)).toEqual(JSON.parse(readFileSync(file, "utf8")));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe("a stack `up` left running, taken by a later command", () => {
  async function nginxAnswering(): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }

  test("its logs are read from the engine, from when the command took it, into the files the server-log scan reads", async () => {
    const nginx = await nginxAnswering();
    try {
      const endpoints = {
        ...dockerEndpoints(
          {
            host: "127.0.0.1",
            ports: {
              nginx: 1,
              gateway: 2,
              openimApi: 3,
              openimWs: 4,
              redis: 5,
              etcd: 6,
              minio: 7,
              prometheus: 8,
            },
            adminSecret: "s",
            adminUserID: "imAdmin",
            gatewayAdmin: { userID: "a", password: "p" },
          },
          dockerParts(readComposeFile().services),
        ),
        nginx: nginx.url,
      };
      writeDockerStateFor(runDir, endpoints);
      engine.containers = [{ id: "c-openim", service: "openim-server", state: "running", health: "healthy" }];
      engine.logs.set("c-openim", "2026-12-07 21:00:00.000 ERROR msg failed\n");
      const before = Math.floor(Date.now() / 1000);
      const handle = await dockerProvider.acquire({ config: config(60_000), runDir, progress });
      expect(handle.startedHere).toBe(false);
      expect(engine.upCalls).toEqual([]);
      expect(engine.follows).toHaveLength(1);
      expect(engine.follows[0]!.since).toBeGreaterThanOrEqual(before);
      await vi.waitFor(() =>
        expect(readFileSync(path.join(runDir, "logs", "openim-server.log"), "utf8")).toContain(
          "ERROR msg failed",
        ),
      );
      expect(handle.health).toBeTypeOf("function");
      await handle.release();
      expect(engine.downCalls).toEqual([]);
    } finally {
      await nginx.close();
    }
  });
});

function writeDockerStateFor(dir: string, endpoints: ReturnType<typeof dockerEndpoints>): void {
  mkdirSync(dir, { recursive: true });
  writeDockerState(dir, {
    kind: "docker",
    projectName: "cutover-feed1234",
    composeFile: path.join(process.cwd(), "containers", "compose.yaml"),
    environment: {},
    compose: { kind: "plugin" },
    dockerHost: "unix:///var/run/docker.sock",
    startedAt: new Date().toISOString(),
    endpoints,
  });
}
