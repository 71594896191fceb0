import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { connect } from "amqplib";
import pg from "pg";
import type { LegacyConfigInput } from "../../../reference/legacy/src/config.js";
import { CutoverError, EXIT, errorMessage } from "../../util/errors.js";
import { nodeEntry } from "../../util/node-entry.js";
import { waitFor } from "../../util/time.js";
import type { StackEndpoints } from "../endpoints.js";
import { type ProgressSink, step } from "../progress.js";
import type { RunDirLayout } from "./layout.js";
import { initdbCommand, planPostgres, postgresService } from "./legacy-postgres.js";
import { epmdAnswers, epmdService, planRabbit, rabbitmqService } from "./legacy-rabbitmq.js";
import { httpGetOk, redisPing } from "./net-probes.js";
import type { LocalPorts } from "./ports-plan.js";
import type { ProcessRecord } from "./processes.js";
import { tailLog } from "./processes.js";
import { runCommand } from "./run-command.js";
import { REDIS_PASSWORD, type ServiceSpec } from "./services.js";

/** What `upLocal` lends the legacy stack: its own process tracker, so a failed `up` stops these too. */
export interface ProcessStarter {
  start(spec: ServiceSpec): ProcessRecord;
  startAndWait(spec: ServiceSpec, ready: () => Promise<boolean>, timeoutMs: number): Promise<ProcessRecord>;
}

export interface LegacyInput {
  layout: RunDirLayout;
  ports: LocalPorts;
  started: ProcessStarter;
  progress: ProgressSink;
  timeoutMs: number;
}

export interface LegacyUp {
  endpoints: NonNullable<StackEndpoints["legacy"]>;
  parts: ServiceSpec[];
}

/** Names of the legacy stack's own Node services (stopped with OpenIM, before the databases they use). */
export const LEGACY_SERVICES = ["legacy-chat", "legacy-consumer", "legacy-websocket"] as const;

export const isLegacyService = (name: string): boolean =>
  (LEGACY_SERVICES as readonly string[]).includes(name);

/** true once Postgres answers a query (its port opens before it accepts sessions). */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

/** true once RabbitMQ completes an AMQP handshake with our credentials. */
export async function rabbitAnswers(url: string): Promise<boolean> {
  const connection = await connect(url, { timeout: 2000 });
  connection.on("error", () => {});
  await connection.close();
  return true;
}

function legacyService(
  name: (typeof LEGACY_SERVICES)[number],
  file: string,
  configFile: string,
  what: string,
): ServiceSpec {
  const entry = nodeEntry(`reference/legacy/src/${file}`);
  return { name, command: entry.command, args: [...entry.args, "--config", configFile], what };
}

/**
 * Starts the legacy pipeline beside OpenIM: a fresh Postgres cluster and a RabbitMQ node
 * (with its own epmd) in parallel, then — once Redis answers too — the chat service (which
 * creates its tables), the consumer and the websocket service, also in parallel. Every
 * process goes through `started`.
 */
export async function startLegacy(input: LegacyInput): Promise<LegacyUp> {
  const { layout, ports, started, progress, timeoutMs } = input;
  const pgCluster = planPostgres(layout.data, layout.root, ports.postgres);
  if (pgCluster.relocated) {
    progress({
      kind: "info",
      message: `the postgres user cannot reach ${layout.root}: the legacy Postgres cluster lives in ${pgCluster.relocated}`,
    });
  }
  const rabbit = planRabbit(layout.data, layout.config, {
    amqp: ports.rabbitmq,
    dist: ports.rabbitmqDist,
    epmd: ports.epmd,
  });
  const pgSpec = postgresService(pgCluster);
  const epmdSpec = epmdService(rabbit);
  const rabbitSpec = rabbitmqService(rabbit);
  const at = (port: number) => () => `127.0.0.1:${port}`;

  await Promise.all([
    step(
      progress,
      "postgres",
      async () => {
        const initLog = path.join(layout.logs, "postgres-initdb.log");
        const init = initdbCommand(pgCluster);
        await runCommand(init.command, init.args, { log: initLog, timeoutMs }).catch((err) => {
          throw new CutoverError(
            `initdb failed: ${errorMessage(err)} (log: ${initLog})`,
            EXIT.stack,
            tailLog(initLog),
          );
        });
        await started.startAndWait(pgSpec, () => postgresAnswers(pgCluster.url), timeoutMs);
      },
      at(ports.postgres),
    ),
    step(
      progress,
      "rabbitmq",
      async () => {
        await started.startAndWait(epmdSpec, () => epmdAnswers(ports.epmd), timeoutMs);
        await started.startAndWait(rabbitSpec, () => rabbitAnswers(rabbit.url), timeoutMs);
      },
      at(ports.rabbitmq),
    ),
  ]);

  const configFile = path.join(layout.config, "legacy.json");
  const config: LegacyConfigInput = {
    chat: { host: "127.0.0.1", port: ports.legacyChat },
    websocket: { host: "127.0.0.1", port: ports.legacyWebsocket },
    consumer: { host: "127.0.0.1", port: ports.legacyConsumer },
    postgres: pgCluster.url,
    amqp: rabbit.url,
    // Database 1 keeps legacy accounts apart from the gateway's; pub/sub channels are server-wide, hence the prefix.
    redis: `redis://:${REDIS_PASSWORD}@127.0.0.1:${ports.redis}/1`,
    wsURL: `ws://127.0.0.1:${ports.nginx}/legacy/ws`,
    jwt: {
      secret: randomBytes(32).toString("base64url"),
      issuer: "cutover-legacy",
      audience: "cutover-legacy",
    },
  };
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });

  const chat = legacyService(
    "legacy-chat",
    "chat-service.ts",
    configFile,
    "legacy chat service (DH + JWT login, REST send, Postgres, RabbitMQ publisher)",
  );
  const consumer = legacyService(
    "legacy-consumer",
    "consumer.ts",
    configFile,
    "legacy consumer (RabbitMQ → Redis pub/sub, one channel per user)",
  );
  const websocket = legacyService(
    "legacy-websocket",
    "websocket-service.ts",
    configFile,
    "legacy websocket service (Redis pub/sub → JSON frames)",
  );
  const healthz = (port: number) => () => httpGetOk(`http://127.0.0.1:${port}/healthz`);
  await step(
    progress,
    "legacy services",
    async () => {
      const redisUp = async () => ((await redisPing(ports.redis, REDIS_PASSWORD)) ? true : undefined);
      await waitFor("redis", redisUp, { timeoutMs });
      // Independent of each other: the chat service creates its tables, the consumer declares its queue itself.
      await Promise.all([
        started.startAndWait(chat, healthz(ports.legacyChat), timeoutMs),
        started.startAndWait(consumer, healthz(ports.legacyConsumer), timeoutMs),
        started.startAndWait(websocket, healthz(ports.legacyWebsocket), timeoutMs),
      ]);
    },
    () => `chat 127.0.0.1:${ports.legacyChat}, ws 127.0.0.1:${ports.legacyWebsocket}`,
  );

  return {
    endpoints: {
      baseURL: `http://127.0.0.1:${ports.nginx}/legacy`,
      wsURL: config.wsURL,
      internal: {
        chat: `http://127.0.0.1:${ports.legacyChat}`,
        websocket: `ws://127.0.0.1:${ports.legacyWebsocket}/ws`,
        consumer: `http://127.0.0.1:${ports.legacyConsumer}`,
        postgres: pgCluster.url,
        amqp: rabbit.url,
      },
    },
    parts: [pgSpec, epmdSpec, rabbitSpec, chat, consumer, websocket],
  };
}
