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
  /** One RPC port per OpenIM service that serves gRPC. */
  rpc: Partial<Record<OpenImCommand, number>>;
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

export const PORT_COUNT = 18 + RPC_SERVICES.length;

export function assignPorts(free: number[]): LocalPorts {
  if (free.length < PORT_COUNT) throw new Error(`need ${PORT_COUNT} ports, got ${free.length}`);
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
    rpc: {},
  };
  for (const service of RPC_SERVICES) ports.rpc[service] = take();
  return ports;
}
