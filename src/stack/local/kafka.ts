import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { runCommand } from "./run-command.js";

/** The topics OpenIM's msgtransfer and push consume (kafka.yml), created up front with 8 partitions each. */
export const OPENIM_TOPICS = ["toRedis", "toMongo", "toPush", "toOfflinePush"];

export interface KafkaFiles {
  properties: string;
  log4j: string;
  dataDir: string;
}

/** A single-node KRaft broker+controller on loopback: the smallest real Kafka OpenIM can use. */
export function writeKafkaConfig(
  configDir: string,
  dataDir: string,
  port: number,
  controllerPort: number,
): KafkaFiles {
  const properties = path.join(configDir, "kafka.properties");
  const log4j = path.join(configDir, "kafka-log4j.properties");
  writeFileSync(
    properties,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      "controller.listener.names=CONTROLLER",
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      "inter.broker.listener.name=PLAINTEXT",
      `log.dirs=${dataDir}`,
      "num.partitions=8",
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=8",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      "auto.create.topics.enable=true",
      "",
    ].join("\n"),
  );
  writeFileSync(
    log4j,
    [
      "log4j.rootLogger=WARN, stdout",
      "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
      "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
      "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
      "log4j.logger.kafka.server.KafkaServer=INFO",
      "log4j.logger.kafka.server.KafkaRaftServer=INFO",
      "",
    ].join("\n"),
  );
  return { properties, log4j, dataDir };
}

export function kafkaJavaArgs(libs: string, files: KafkaFiles, mainClass: string): string[] {
  return [
    "-Xmx512m",
    "-XX:+UseSerialGC",
    `-Dlog4j.configuration=file:${files.log4j}`,
    "-cp",
    `${libs}/*`,
    mainClass,
  ];
}

/**
 * A fresh KRaft cluster id: 16 random bytes as 22 chars of base64url, drawn again when it starts
 * with "-" — the storage tool would read such an id as an option and refuse to format (1 start in
 * 64 failed so); Kafka's own Uuid.randomUuid() draws again for the same reason.
 */
export function kafkaClusterId(draw: () => Buffer = () => randomBytes(16)): string {
  for (;;) {
    const id = draw().toString("base64url").slice(0, 22);
    if (!id.startsWith("-")) return id;
  }
}

/** KRaft storage is formatted once per run dir, with a fresh cluster id. */
export async function formatKafkaStorage(libs: string, files: KafkaFiles, log: string): Promise<void> {
  if (existsSync(path.join(files.dataDir, "meta.properties"))) return;
  const clusterId = kafkaClusterId();
  await runCommand(
    "java",
    [
      ...kafkaJavaArgs(libs, files, "kafka.tools.StorageTool"),
      "format",
      "-t",
      clusterId,
      "-c",
      files.properties,
    ],
    { log, timeoutMs: 120_000 },
  );
}

export function kafkaAdmin(port: number) {
  return new Kafka({
    clientId: "cutover",
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 2 },
  }).admin();
}

/** Creates OpenIM's topics; resolves once the broker lists them all. */
export async function ensureOpenImTopics(port: number): Promise<void> {
  const admin = kafkaAdmin(port);
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = OPENIM_TOPICS.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: 8, replicationFactor: 1 })),
      });
    }
    const now = new Set(await admin.listTopics());
    const absent = OPENIM_TOPICS.filter((t) => !now.has(t));
    if (absent.length > 0) throw new Error(`topics not created: ${absent.join(", ")}`);
  } finally {
    await admin.disconnect();
  }
}

/** For `status`: the broker answers metadata and OpenIM's topics exist. */
export async function kafkaHealthy(port: number): Promise<boolean> {
  const admin = kafkaAdmin(port);
  try {
    await admin.connect();
    const topics = new Set(await admin.listTopics());
    return OPENIM_TOPICS.every((t) => topics.has(t));
  } finally {
    await admin.disconnect();
  }
}
