import path from "node:path";
import { nodeEntry } from "../../util/node-entry.js";
import type { Artifacts, OpenImCommand } from "./artifacts.js";
import { OPENIM_COMMANDS } from "./artifacts.js";
import type { KafkaFiles } from "./kafka.js";
import { kafkaJavaArgs } from "./kafka.js";
import type { RunDirLayout } from "./layout.js";
import { msgGatewayName } from "./msg-gateways.js";
import type { LocalPorts } from "./ports-plan.js";

/** OpenIM's redis.yml expects this password; the local Redis is started with it. */
export const REDIS_PASSWORD = "openIM123";

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  /** What it is, as every report names it. */
  what: string;
  note?: string;
  /** Environment and working directory, when the process needs its own (RabbitMQ does). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface DependencyInput {
  layout: RunDirLayout;
  ports: LocalPorts;
  artifacts: Artifacts;
  kafka: KafkaFiles;
  mongoPersist: boolean;
}

/** The processes OpenIM depends on; each is real where a real one can run here, a named stand-in where not. */
export function dependencyServices(input: DependencyInput): ServiceSpec[] {
  const { layout, ports, artifacts } = input;
  const data = (name: string) => path.join(layout.data, name);
  const mongoArgs = [
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-jar",
    artifacts.mongoStandinJar,
    "--port",
    String(ports.mongo),
  ];
  if (input.mongoPersist) mongoArgs.push("--h2", path.join(layout.data, "mongo", "openim.mv.db"));
  return [
    {
      name: "redis",
      command: "redis-server",
      args: [
        "--port",
        String(ports.redis),
        "--bind",
        "127.0.0.1",
        "--requirepass",
        REDIS_PASSWORD,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        data("redis"),
        "--daemonize",
        "no",
      ],
      what: "redis-server (Debian)",
    },
    {
      name: "etcd",
      command: "etcd",
      args: [
        "--name",
        "cutover",
        "--data-dir",
        data("etcd"),
        "--listen-client-urls",
        `http://127.0.0.1:${ports.etcd}`,
        "--advertise-client-urls",
        `http://127.0.0.1:${ports.etcd}`,
        "--listen-peer-urls",
        `http://127.0.0.1:${ports.etcdPeer}`,
        "--initial-advertise-peer-urls",
        `http://127.0.0.1:${ports.etcdPeer}`,
        "--initial-cluster",
        `cutover=http://127.0.0.1:${ports.etcdPeer}`,
        "--log-level",
        "warn",
      ],
      what: "etcd (Debian etcd-server)",
    },
    {
      name: "kafka",
      command: "java",
      args: kafkaJavaArgs(artifacts.kafkaLibs, input.kafka, "kafka.Kafka").concat(input.kafka.properties),
      what: "Apache Kafka (KRaft, jars from Maven Central)",
    },
    {
      name: "mongo",
      command: "java",
      args: mongoArgs,
      what: "MongoDB stand-in: mongo-java-server 1.47.0 + cutover's pipeline-update support",
      note: input.mongoPersist
        ? "not a real mongod (none can run here); data persisted in an H2 file"
        : "not a real mongod (none can run here); data in memory, lost on restart",
    },
    {
      name: "s3",
      command: artifacts.s3Standin,
      args: ["-addr", `127.0.0.1:${ports.s3}`, "-bucket", "openim"],
      what: "S3 stand-in (gofakes3, in memory) in MinIO's role",
    },
    {
      name: "nginx",
      command: "nginx",
      args: ["-p", layout.nginx, "-c", path.join(layout.nginx, "nginx.conf"), "-g", "daemon off;"],
      what: "nginx (Debian)",
    },
  ];
}

/** The reference gateway: DH/JWT login → imToken, REST proxy, admin routes, moderation webhooks. */
export function gatewayService(configFile: string): ServiceSpec {
  const entry = nodeEntry("reference/gateway/src/main.ts");
  return {
    name: "gateway",
    command: entry.command,
    args: [...entry.args, "--config", configFile],
    what: "cutover reference gateway (DH + JWT login, imToken cache, REST proxy, moderation hooks)",
  };
}

/** OpenIM's processes: one of each command, and `msgGateways` message gateways (`-i` 0, 1, …). */
export function openimServices(artifacts: Artifacts, configDir: string, msgGateways = 1): ServiceSpec[] {
  const spec = (name: string, command: OpenImCommand, index: number): ServiceSpec => ({
    name,
    command: path.join(artifacts.openimBin, command),
    args: ["-c", `${configDir}/`, "-i", String(index)],
    what: "OpenIM v3.8.3 (real server, built from the Go module proxy)",
  });
  return OPENIM_COMMANDS.flatMap((command: OpenImCommand) =>
    command === "openim-msggateway"
      ? Array.from({ length: msgGateways }, (_, i) => spec(msgGatewayName(i), command, i))
      : [spec(command, command, 0)],
  );
}
