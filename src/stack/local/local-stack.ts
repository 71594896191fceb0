import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CutoverConfig } from "../../config/schema.js";
import { CutoverError, EXIT, errorMessage } from "../../util/errors.js";
import { waitFor } from "../../util/time.js";
import type { StackEndpoints } from "../endpoints.js";
import { renderLocalNginxConf } from "../nginx-config.js";
import { type ProgressSink, step } from "../progress.js";
import {
  type Artifacts,
  artifactPaths,
  defaultCacheDir,
  openimModuleDir,
  planArtifacts,
} from "./artifacts.js";
import { writeGatewayConfig } from "./gateway-config.js";
import { ensureOpenImTopics, formatKafkaStorage, writeKafkaConfig } from "./kafka.js";
import { createRunDir, type RunDirLayout, runDirLayout } from "./layout.js";
import { removeRelocatedPostgres } from "./legacy-postgres.js";
import { isLegacyService, startLegacy } from "./legacy-stack.js";
import { httpGetOk, redisPing, tcpOpen } from "./net-probes.js";
import { writeOpenImConfig } from "./openim-config.js";
import { openimAnswers, openimDelivers } from "./openim-ready.js";
import { pickFreePorts } from "./ports.js";
import { assignPorts, type LocalPorts, portCount } from "./ports-plan.js";
import { isAlive, type ProcessRecord, startProcess, stopProcess, tailLog } from "./processes.js";
import { prometheusService } from "./prometheus.js";
import {
  dependencyServices,
  gatewayService,
  openimServices,
  REDIS_PASSWORD,
  type ServiceSpec,
} from "./services.js";
import { liveness, type RunState, readState, writeState } from "./state.js";
import { checkPrograms } from "./system-programs.js";

export interface UpOptions {
  config: CutoverConfig;
  runDir: string;
  progress: ProgressSink;
}

export type UpResult =
  | { kind: "started"; endpoints: StackEndpoints; ms: number }
  | { kind: "already-up"; endpoints: StackEndpoints };

function endpointsFor(config: CutoverConfig, ports: LocalPorts, parts: ServiceSpec[]): StackEndpoints {
  const nginx = `http://127.0.0.1:${ports.nginx}`;
  const seen = new Set<string>();
  return {
    stack: "local",
    nginx,
    wsURL: `ws://127.0.0.1:${ports.nginx}/msg_gateway`,
    openimApi: `http://127.0.0.1:${ports.openimApi}`,
    openimWs: `ws://127.0.0.1:${ports.openimWs}`,
    openimWsInstances: ports.msgGateways.map((g) => `ws://127.0.0.1:${g.ws}`),
    redis: `redis://:${REDIS_PASSWORD}@127.0.0.1:${ports.redis}`,
    gateway: `http://127.0.0.1:${ports.gateway}`,
    kafka: `127.0.0.1:${ports.kafka}`,
    etcd: `http://127.0.0.1:${ports.etcd}`,
    prometheus: `http://127.0.0.1:${ports.prometheus}`,
    adminSecret: config.openim.adminSecret,
    adminUserID: config.openim.adminUserID,
    parts: parts
      .filter((p) => !seen.has(p.what) && seen.add(p.what))
      .map((p) => ({
        name: p.name.startsWith("openim-") ? "openim" : p.name,
        what: p.what,
        ...(p.note ? { note: p.note } : {}),
      })),
  };
}

/** Tracks what this `up` started so a failure (or Ctrl-C) stops exactly those processes. */
class StartedProcesses {
  readonly records: ProcessRecord[] = [];
  private abandoned = false;
  private readonly alongside: Promise<unknown>[] = [];
  constructor(
    private readonly layout: RunDirLayout,
    private readonly state: RunState,
  ) {}

  start(spec: ServiceSpec): ProcessRecord {
    if (this.abandoned) throw new Error(`not starting ${spec.name}: this up failed`);
    const record = startProcess({ ...spec, log: path.join(this.layout.logs, `${spec.name}.log`) });
    this.records.push(record);
    this.state.processes = this.records;
    writeState(this.layout.state, this.state);
    return record;
  }

  /** Waits for `ready`, failing early with the log's tail if the process exits first. */
  async startAndWait(
    spec: ServiceSpec,
    ready: () => Promise<boolean>,
    timeoutMs: number,
  ): Promise<ProcessRecord> {
    const record = this.start(spec);
    await waitFor(spec.name, async () => ((await ready()) ? true : undefined), {
      timeoutMs,
      abort: () => (isAlive(record) ? undefined : "exited during startup"),
    }).catch((err) => {
      throw new CutoverError(
        `${spec.name} failed to start: ${errorMessage(err)} (log: ${record.log})`,
        EXIT.stack,
        tailLog(record.log),
      );
    });
    return record;
  }

  /** Startup work running beside the main sequence (the legacy stack); a failed `up` waits for it. */
  beside<T>(work: Promise<T>): Promise<T> {
    this.alongside.push(work.catch(() => {}));
    return work;
  }

  /** Stops everything started; work still starting beside sees its processes die, fails, and is waited for. */
  async abandon(): Promise<void> {
    this.abandoned = true;
    await stopRecords(this.records);
    await Promise.all(this.alongside);
    await stopRecords(this.records);
  }
}

export async function stopRecords(records: ProcessRecord[]): Promise<number> {
  // OpenIM and the legacy services first, then their dependencies, so nothing logs a storm of
  // connection errors on the way down (and Postgres's smart shutdown has no client to wait for);
  // the legacy stack's epmd last, after the RabbitMQ node registered with it.
  const first = (r: ProcessRecord) => r.name.startsWith("openim-") || isLegacyService(r.name);
  const services = records.filter(first);
  const deps = records.filter((r) => !first(r) && r.name !== "epmd");
  const epmd = records.filter((r) => r.name === "epmd");
  let stopped = 0;
  for (const group of [services, deps, epmd]) {
    const results = await Promise.all(group.map((r) => stopProcess(r)));
    stopped += results.filter((r) => r === "stopped").length;
  }
  return stopped;
}

/** Fresh data for every `up`, except a Mongo stand-in that was asked to persist; old logs are kept aside. */
function resetRunDir(layout: RunDirLayout, keepMongo: boolean): void {
  if (existsSync(layout.data)) {
    for (const entry of readdirSync(layout.data)) {
      if (keepMongo && entry === "mongo") continue;
      rmSync(path.join(layout.data, entry), { recursive: true, force: true });
    }
  }
  if (existsSync(layout.logs) && readdirSync(layout.logs).length > 0) {
    const previous = path.join(layout.root, "logs.previous");
    rmSync(previous, { recursive: true, force: true });
    renameSync(layout.logs, previous);
  }
  rmSync(layout.config, { recursive: true, force: true });
  rmSync(layout.prometheus, { recursive: true, force: true });
  createRunDir(layout);
  for (const dir of ["redis", "etcd", "kafka", "mongo"])
    mkdirSync(path.join(layout.data, dir), { recursive: true });
  for (const dir of ["body", "proxy", "fastcgi", "uwsgi", "scgi"])
    mkdirSync(path.join(layout.nginx, "tmp", dir), { recursive: true });
}

async function ensureArtifacts(
  config: CutoverConfig,
  layout: RunDirLayout,
  progress: ProgressSink,
): Promise<Artifacts> {
  const local = config.stack.local;
  const steps = planArtifacts(local.cacheDir ?? defaultCacheDir(), local.openimVersion, local.kafkaVersion);
  const buildLog = path.join(layout.logs, "build.log");
  for (const s of steps) {
    if (!s.build) continue;
    const build = s.build;
    await step(progress, `building ${s.name}`, () =>
      build(buildLog).catch((err) => {
        throw new CutoverError(
          `building ${s.name} failed: ${errorMessage(err)} (log: ${buildLog})`,
          EXIT.stack,
          tailLog(buildLog),
        );
      }),
    );
  }
  return artifactPaths(steps);
}

function requireLocalPrograms(legacy: boolean): void {
  const missing = checkPrograms((p) => p.requiredFor === "local stack" && (legacy || !p.legacy)).filter(
    (c) => !c.found,
  );
  if (missing.length > 0) {
    throw new CutoverError(
      `the local stack needs ${missing.map((m) => m.program.name).join(", ")} — run \`cutover doctor --fix\``,
      EXIT.stack,
    );
  }
}

export async function upLocal(opts: UpOptions): Promise<UpResult> {
  const { config, progress } = opts;
  const layout = runDirLayout(opts.runDir);
  const previous = liveness(readState(layout.state));
  if (previous.kind === "live" && previous.state.endpoints)
    return { kind: "already-up", endpoints: previous.state.endpoints };
  if (previous.kind === "stale") {
    const stopped = await stopRecords(previous.alive);
    progress({
      kind: "info",
      message: `cleaned up a stale run in ${layout.root}${stopped > 0 ? ` (stopped ${stopped} leftover processes)` : ""}`,
    });
  }
  requireLocalPrograms(config.stack.local.legacy);
  const began = performance.now();
  const local = config.stack.local;
  resetRunDir(layout, local.mongo.persist);
  const artifacts = await ensureArtifacts(config, layout, progress);
  const ports = assignPorts(
    await pickFreePorts(portCount(local.msgGateways), local.portBase),
    local.msgGateways,
  );
  const state: RunState = {
    phase: "starting",
    startedAt: new Date().toISOString(),
    cutoverPid: process.pid,
    ports: { ...ports },
    processes: [],
  };
  writeState(layout.state, state);
  const started = new StartedProcesses(layout, state);
  const onSignal = () => {
    progress({ kind: "info", message: "interrupted: stopping what was started (logs kept)" });
    void stopRecords(started.records).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const endpoints = await startAll(config, layout, ports, artifacts, started, progress);
    state.phase = "up";
    state.endpoints = endpoints;
    writeState(layout.state, state);
    return { kind: "started", endpoints, ms: performance.now() - began };
  } catch (err) {
    await started.abandon();
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

async function startAll(
  config: CutoverConfig,
  layout: RunDirLayout,
  ports: LocalPorts,
  artifacts: Artifacts,
  started: StartedProcesses,
  progress: ProgressSink,
): Promise<StackEndpoints> {
  const local = config.stack.local;
  const timeout = local.startTimeoutMs;
  const kafka = writeKafkaConfig(
    layout.config,
    path.join(layout.data, "kafka"),
    ports.kafka,
    ports.kafkaController,
  );
  writeFileSync(
    path.join(layout.nginx, "nginx.conf"),
    renderLocalNginxConf(
      {
        listen: `127.0.0.1:${ports.nginx}`,
        openimWs: `127.0.0.1:${ports.openimWs}`,
        openimWsInstances: ports.msgGateways.map((g) => `127.0.0.1:${g.ws}`),
        gateway: `127.0.0.1:${ports.gateway}`,
        accessLog: path.join(layout.nginx, "access.log"),
        ...(local.legacy ? { legacy: `127.0.0.1:${ports.legacyChat}` } : {}),
      },
      layout.nginx,
      process.getuid?.() === 0,
    ),
  );
  writeOpenImConfig({
    sourceDir: path.join(openimModuleDir(local.openimVersion), "config"),
    targetDir: layout.openimConfig,
    logDir: layout.openimLogs,
    ports,
    adminSecret: config.openim.adminSecret,
    adminUserID: config.openim.adminUserID,
    webhookURL: `http://127.0.0.1:${ports.gateway}/webhooks/openim`,
    redisPassword: REDIS_PASSWORD,
    shipped: local.openimConfig === "shipped",
  });

  const gatewayAdmin = { userID: "cutover_admin", password: randomBytes(18).toString("base64url") };
  const gatewayConfigFile = path.join(layout.config, "gateway.json");
  writeGatewayConfig(gatewayConfigFile, config, ports, gatewayAdmin);

  const deps = [
    ...dependencyServices({ layout, ports, artifacts, kafka, mongoPersist: local.mongo.persist }),
    gatewayService(gatewayConfigFile),
    prometheusService(artifacts, layout, ports, local.legacy),
  ];
  const byName = (name: string): ServiceSpec => {
    const spec = deps.find((d) => d.name === name);
    if (!spec) throw new Error(`no service ${name}`);
    return spec;
  };
  const ready: Record<string, () => Promise<boolean>> = {
    redis: () => redisPing(ports.redis, REDIS_PASSWORD),
    etcd: () => httpGetOk(`http://127.0.0.1:${ports.etcd}/health`),
    mongo: () => tcpOpen(ports.mongo),
    s3: () => tcpOpen(ports.s3),
    nginx: () => httpGetOk(`http://127.0.0.1:${ports.nginx}/healthz`),
    prometheus: () => httpGetOk(`http://127.0.0.1:${ports.prometheus}/-/ready`),
  };
  // The legacy pipeline starts beside everything else; it only needs Redis, which it waits for itself.
  const legacy = local.legacy
    ? started.beside(startLegacy({ layout, ports, started, progress, timeoutMs: timeout }))
    : undefined;
  const detail = (name: string) => () => `127.0.0.1:${(ports as unknown as Record<string, number>)[name]}`;
  const kafkaStarted = step(
    progress,
    "kafka",
    async () => {
      await formatKafkaStorage(artifacts.kafkaLibs, kafka, path.join(layout.logs, "kafka-format.log"));
      await started.startAndWait(byName("kafka"), () => tcpOpen(ports.kafka), timeout);
      await waitFor("kafka topics", () => ensureOpenImTopics(ports.kafka).then(() => true), {
        timeoutMs: timeout,
        intervalMs: 500,
      });
    },
    detail("kafka"),
  );
  await Promise.all([
    ...Object.entries(ready).map(([name, probe]) =>
      step(progress, name, () => started.startAndWait(byName(name), probe, timeout), detail(name)),
    ),
    kafkaStarted,
  ]);
  // OpenIM's before-send hooks call the gateway synchronously and fail every send while it is
  // unreachable, so the gateway (which needs Redis) is up before any OpenIM process starts.
  await step(
    progress,
    "gateway",
    () =>
      started.startAndWait(
        byName("gateway"),
        () => httpGetOk(`http://127.0.0.1:${ports.gateway}/healthz`),
        timeout,
      ),
    detail("gateway"),
  );

  const openim = openimServices(artifacts, layout.openimConfig, local.msgGateways);
  const wsPorts = ports.msgGateways.map((g) => g.ws);
  await step(
    progress,
    `OpenIM (${openim.length} processes)`,
    async () => {
      const records = openim.map((spec) => started.start(spec));
      const dead = () => {
        const gone = records.find((r) => !isAlive(r));
        return gone ? `${gone.name} exited during startup` : undefined;
      };
      const api = `http://127.0.0.1:${ports.openimApi}`;
      await waitFor(
        "OpenIM",
        async () =>
          (await openimAnswers(api, config.openim.adminSecret, config.openim.adminUserID)) &&
          (await Promise.all(wsPorts.map((p) => tcpOpen(p)))).every(Boolean)
            ? true
            : undefined,
        {
          timeoutMs: timeout,
          intervalMs: 200,
          abort: dead,
        },
      ).catch((err) => {
        const gone = records.find((r) => !isAlive(r));
        const log = gone?.log ?? path.join(layout.logs, "openim-api.log");
        throw new CutoverError(
          `OpenIM failed to start: ${errorMessage(err)} (log: ${log})`,
          EXIT.stack,
          tailLog(log),
        );
      });
    },
    () => `api 127.0.0.1:${ports.openimApi}, ws 127.0.0.1:${wsPorts.join(", ")}`,
  );
  await step(
    progress,
    `message path (a canary delivered through Kafka${wsPorts.length > 1 ? ` via each of ${wsPorts.length} gateways` : ""})`,
    () =>
      openimDelivers(
        `http://127.0.0.1:${ports.openimApi}`,
        wsPorts.map((p) => `ws://127.0.0.1:${p}`),
        config.openim.adminSecret,
        config.openim.adminUserID,
        timeout,
      ).catch((err) => {
        const log = path.join(layout.logs, "openim-push.log");
        throw new CutoverError(
          `OpenIM does not deliver: ${errorMessage(err)} (log: ${log})`,
          EXIT.stack,
          tailLog(log),
        );
      }),
    (sends) => `after ${sends} send${sends === 1 ? "" : "s"}`,
  );
  const legacyUp = await legacy;
  return {
    ...endpointsFor(config, ports, [...deps, ...openim, ...(legacyUp?.parts ?? [])]),
    gatewayAdmin,
    ...(legacyUp ? { legacy: legacyUp.endpoints } : {}),
  };
}

export interface DownResult {
  stopped: number;
  runDir: string;
  hadStack: boolean;
}

export async function downLocal(runDir: string): Promise<DownResult> {
  const layout = runDirLayout(runDir);
  const state = readState(layout.state);
  if (!state) return { stopped: 0, runDir: layout.root, hadStack: false };
  const stopped = await stopRecords(state.processes);
  removeRelocatedPostgres(layout.root);
  rmSync(layout.state, { force: true });
  return { stopped, runDir: layout.root, hadStack: true };
}
