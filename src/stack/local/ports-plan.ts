import type { OpenImCommand } from "./artifacts.js";

/** Every port one local stack binds; chosen free per run directory so stacks can run side by side. */
export interface LocalPorts {
  nginx: number;
  gateway: number;
  redis: number;
  etcd: number;
  etcdPeer: number;
  kafka: number;
  kafkaController: number;
  mongo: number;
  s3: number;
  openimApi: number;
  openimWs: number;
  /** The legacy stack: its three services, Postgres, RabbitMQ (AMQP, Erlang distribution) and its own epmd. */
  legacyChat: number;
  legacyWebsocket: number;
  legacyConsumer: number;
  postgres: number;
  rabbitmq: number;
  rabbitmqDist: number;
  epmd: number;
  /** One RPC port per OpenIM service that serves gRPC (msggateway: its instance 0). */
  rpc: Partial<Record<OpenImCommand, number>>;
  /**
   * Every msggateway instance's WebSocket and RPC port, by index (`-i`); instance 0's are
   * `openimWs` and `rpc["openim-msggateway"]`, so one-instance code keeps reading those.
   */
  msgGateways: Array<{ ws: number; rpc: number; metrics: number }>;
  /** The Prometheus server of the stack. */
  prometheus: number;
  /**
   * Each OpenIM service's Prometheus endpoint (`prometheus.ports` in its config; msggateway:
   * its instance 0, the others in `msgGateways`). crontask has none in v3.8.3.
   */
  metrics: Partial<Record<OpenImCommand, number>>;
}

const RPC_SERVICES = [
  "openim-msggateway",
  "openim-push",
  "openim-rpc-user",
  "openim-rpc-auth",
  "openim-rpc-friend",
  "openim-rpc-group",
  "openim-rpc-conversation",
  "openim-rpc-msg",
  "openim-rpc-third",
] as const satisfies readonly OpenImCommand[];

/** The OpenIM services with a Prometheus endpoint (every config with a `prometheus:` section). */
export const METRICS_SERVICES = [
  "openim-api",
  "openim-msgtransfer",
  ...RPC_SERVICES,
] as const satisfies readonly OpenImCommand[];

/** The ports of a stack with one msggateway. */
export const PORT_COUNT = 19 + RPC_SERVICES.length + METRICS_SERVICES.length;

/** Each msggateway beyond the first takes a WebSocket, an RPC and a metrics port of its own. */
export const portCount = (msgGateways = 1): number => PORT_COUNT + 3 * (msgGateways - 1);

export function assignPorts(free: number[], msgGateways = 1): LocalPorts {
  const count = portCount(msgGateways);
  if (free.length < count) throw new Error(`need ${count} ports, got ${free.length}`);
  const take = (): number => free.shift() as number;
  const ports: LocalPorts = {
    nginx: take(),
    gateway: take(),
    redis: take(),
    etcd: take(),
    etcdPeer: take(),
    kafka: take(),
    kafkaController: take(),
    mongo: take(),
    s3: take(),
    openimApi: take(),
    openimWs: take(),
    legacyChat: take(),
    legacyWebsocket: take(),
    legacyConsumer: take(),
    postgres: take(),
    rabbitmq: take(),
    rabbitmqDist: take(),
    epmd: take(),
    prometheus: take(),
    rpc: {},
    metrics: {},
    msgGateways: [],
  };
  for (const service of RPC_SERVICES) ports.rpc[service] = take();
  for (const service of METRICS_SERVICES) ports.metrics[service] = take();
  ports.msgGateways.push({
    ws: ports.openimWs,
    rpc: ports.rpc["openim-msggateway"] as number,
    metrics: ports.metrics["openim-msggateway"] as number,
  });
  for (let i = 1; i < msgGateways; i++) ports.msgGateways.push({ ws: take(), rpc: take(), metrics: take() });
  return ports;
}
