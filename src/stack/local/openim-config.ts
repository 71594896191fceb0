import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse, stringify } from "yaml";
import type { OpenImCommand } from "./artifacts.js";
import type { LocalPorts } from "./ports-plan.js";

type Yaml = Record<string, unknown>;

export interface OpenImConfigInput {
  /** OpenIM's stock config/ folder of the pinned version. */
  sourceDir: string;
  targetDir: string;
  logDir: string;
  ports: LocalPorts;
  adminSecret: string;
  adminUserID: string;
  /** Where OpenIM's webhooks go: the gateway, which answers the send hooks for moderation. */
  webhookURL: string;
  redisPassword: string;
  /**
   * true: OpenIM's stock settings kept apart from addresses, ports and credentials (the send
   * webhooks stay off, logs stay at debug level), as a team's deployment starts out.
   */
  shipped?: boolean;
}

function section(doc: Yaml, key: string): Yaml {
  const value = doc[key];
  if (value && typeof value === "object" && !Array.isArray(value)) return value as Yaml;
  const created: Yaml = {};
  doc[key] = created;
  return created;
}

const CONFIG_FOR: Partial<Record<OpenImCommand, string>> = {
  "openim-api": "openim-api.yml",
  "openim-msgtransfer": "openim-msgtransfer.yml",
  "openim-msggateway": "openim-msggateway.yml",
  "openim-push": "openim-push.yml",
  "openim-rpc-user": "openim-rpc-user.yml",
  "openim-rpc-auth": "openim-rpc-auth.yml",
  "openim-rpc-friend": "openim-rpc-friend.yml",
  "openim-rpc-group": "openim-rpc-group.yml",
  "openim-rpc-conversation": "openim-rpc-conversation.yml",
  "openim-rpc-msg": "openim-rpc-msg.yml",
  "openim-rpc-third": "openim-rpc-third.yml",
};

/**
 * Edits one parsed file of OpenIM's stock config for this run: loopback addresses, the
 * run's ports (Prometheus endpoints included), no outside push
 * service, and — unless `shipped` — the gateway's send webhooks on. Pure, so it is unit-tested.
 */
export function editOpenImConfig(
  file: string,
  doc: Yaml,
  input: Omit<OpenImConfigInput, "sourceDir" | "targetDir">,
): Yaml {
  const { ports } = input;
  const loopback = (port: number) => [`127.0.0.1:${port}`];
  const command = Object.entries(CONFIG_FOR).find(([, name]) => name === file)?.[0] as
    | OpenImCommand
    | undefined;
  if ("prometheus" in doc) {
    // Each service's metrics on the run's own port (the stock ones would collide between runs),
    // scraped by the stack's Prometheus; one port per instance, as `ports` has one per instance.
    const metrics = section(doc, "prometheus");
    const port = command ? ports.metrics[command] : undefined;
    metrics.enable = port !== undefined;
    if (command === "openim-msggateway") metrics.ports = ports.msgGateways.map((g) => g.metrics);
    else if (port !== undefined) metrics.ports = [port];
  }
  switch (file) {
    case "discovery.yml":
      doc.enable = "etcd";
      section(doc, "etcd").address = loopback(ports.etcd);
      break;
    case "redis.yml":
      doc.address = loopback(ports.redis);
      doc.password = input.redisPassword;
      break;
    case "kafka.yml":
      doc.address = loopback(ports.kafka);
      break;
    case "mongodb.yml":
      // A non-empty uri makes OpenIM ignore username/password; the stand-in runs without auth.
      doc.uri = `mongodb://127.0.0.1:${ports.mongo}/openim_v3?maxPoolSize=100`;
      doc.address = loopback(ports.mongo);
      break;
    case "minio.yml":
      doc.internalAddress = `127.0.0.1:${ports.s3}`;
      doc.externalAddress = `http://127.0.0.1:${ports.s3}`;
      break;
    case "log.yml":
      doc.storageLocation = `${input.logDir}/`;
      if (!input.shipped) doc.remainLogLevel = 3;
      break;
    case "share.yml":
      doc.secret = input.adminSecret;
      doc.imAdminUserID = [input.adminUserID];
      break;
    case "webhooks.yml":
      doc.url = input.webhookURL;
      if (input.shipped) break;
      // Moderation: the gateway answers these; an unreachable before-send hook fails every send.
      for (const hook of [
        "beforeSendSingleMsg",
        "beforeSendGroupMsg",
        "afterSendSingleMsg",
        "afterSendGroupMsg",
      ]) {
        const h = section(doc, hook);
        h.enable = true;
        h.timeout = 5;
      }
      break;
    case "openim-api.yml": {
      const api = section(doc, "api");
      api.listenIP = "127.0.0.1";
      api.ports = [ports.openimApi];
      break;
    }
    case "openim-msggateway.yml": {
      // msggateway ignores listenIP for the WebSocket port and binds *:<port> (real-openim.md).
      doc.listenIP = "127.0.0.1";
      // One entry per instance: `-i <index>` picks its pair (server: internal/msggateway/init.go
      // Start takes longConnSvr.ports[index], pkg/common/startrpc/start.go rpc.ports[index]).
      section(doc, "longConnSvr").ports = ports.msgGateways.map((g) => g.ws);
      break;
    }
    case "openim-push.yml":
      // The default (geTui) calls an outside offline-push service; nothing here may do that.
      doc.enable = "none";
      break;
  }
  if (command && command !== "openim-api" && command !== "openim-msgtransfer") {
    const rpc = section(doc, "rpc");
    rpc.registerIP = "127.0.0.1";
    rpc.listenIP = "127.0.0.1";
    rpc.ports = command === "openim-msggateway" ? ports.msgGateways.map((g) => g.rpc) : [ports.rpc[command]];
  }
  return doc;
}

/** Writes the run's OpenIM config folder from the stock one: every .yml edited, the rest copied. */
export function writeOpenImConfig(input: OpenImConfigInput): void {
  if (!existsSync(input.sourceDir)) throw new Error(`OpenIM config not found at ${input.sourceDir}`);
  for (const file of readdirSync(input.sourceDir)) {
    if (!file.endsWith(".yml")) continue;
    const text = readFileSync(path.join(input.sourceDir, file), "utf8");
    const doc = (parse(text) ?? {}) as Yaml;
    if (typeof doc !== "object" || Array.isArray(doc)) continue;
    writeFileSync(path.join(input.targetDir, file), stringify(editOpenImConfig(file, doc, input)));
  }
}
