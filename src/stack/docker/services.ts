import type { GatewayConfigInput } from "../../../reference/gateway/src/config.js";
import type { StackEndpoints } from "../endpoints.js";

/**
 * How containers/compose.yaml's services become the endpoints object every provider returns.
 * The compose file publishes each port through one variable; cutover picks the host ports,
 * passes them in, and builds the endpoints from the same numbers. Pure, so it is unit-tested
 * against the compose file itself.
 */

/** Compose's (and OpenIM's own compose's) passwords; nothing here is reachable beyond 127.0.0.1. */
export const DOCKER_REDIS_PASSWORD = "openIM123";

export const PUBLISHED_PORTS = [
  { key: "nginx", service: "nginx", containerPort: 80, variable: "CUTOVER_NGINX_PORT", fallback: 18080 },
  {
    key: "gateway",
    service: "gateway",
    containerPort: 8000,
    variable: "CUTOVER_GATEWAY_PORT",
    fallback: 18000,
  },
  {
    key: "openimApi",
    service: "openim-server",
    containerPort: 10002,
    variable: "CUTOVER_OPENIM_API_PORT",
    fallback: 10002,
  },
  {
    key: "openimWs",
    service: "openim-server",
    containerPort: 10001,
    variable: "CUTOVER_OPENIM_WS_PORT",
    fallback: 10001,
  },
  { key: "redis", service: "redis", containerPort: 6379, variable: "CUTOVER_REDIS_PORT", fallback: 16379 },
  { key: "etcd", service: "etcd", containerPort: 2379, variable: "CUTOVER_ETCD_PORT", fallback: 12379 },
  { key: "minio", service: "minio", containerPort: 9000, variable: "CUTOVER_MINIO_PORT", fallback: 10005 },
  {
    key: "prometheus",
    service: "prometheus",
    containerPort: 9090,
    variable: "CUTOVER_PROMETHEUS_PORT",
    fallback: 19090,
  },
] as const;

export type PublishedKey = (typeof PUBLISHED_PORTS)[number]["key"];
export type DockerPorts = Record<PublishedKey, number>;

/** The ports compose uses when nothing is passed in (`docker compose up` on its own). */
export const FALLBACK_PORTS = Object.fromEntries(
  PUBLISHED_PORTS.map((p) => [p.key, p.fallback]),
) as DockerPorts;

export function assignDockerPorts(free: number[]): DockerPorts {
  if (free.length < PUBLISHED_PORTS.length) throw new Error(`need ${PUBLISHED_PORTS.length} ports`);
  return Object.fromEntries(PUBLISHED_PORTS.map((p, i) => [p.key, free[i]])) as DockerPorts;
}

export interface DockerStackInput {
  /** Where the published ports are reached: 127.0.0.1 for a local engine. */
  host: string;
  ports: DockerPorts;
  adminSecret: string;
  adminUserID: string;
  gatewayAdmin: { userID: string; password: string };
}

/**
 * The variables containers/compose.yaml reads, for one run. The gateway's config travels as one
 * variable, not as a bind-mounted file: under rootless Docker or Podman a container's user maps
 * to another uid on the host and cannot read a 0600 file cutover wrote, while making the file
 * readable by others would leave the JWT key and admin secret world-readable on the host. The
 * variable lives only in this process, in the 0600 docker-state.json and in the engine (whose
 * users can read any container's files anyway).
 */
export function composeEnvironment(
  input: DockerStackInput,
  gatewayConfig: GatewayConfigInput,
): Record<string, string> {
  const env: Record<string, string> = {
    CUTOVER_PUBLISH_IP: "127.0.0.1",
    CUTOVER_PUBLIC_HOST: input.host,
    CUTOVER_OPENIM_SECRET: input.adminSecret,
    CUTOVER_OPENIM_ADMIN_USER_ID: input.adminUserID,
    CUTOVER_GATEWAY_CONFIG_JSON: JSON.stringify(gatewayConfig),
  };
  for (const p of PUBLISHED_PORTS) env[p.variable] = String(input.ports[p.key]);
  return env;
}

/** The gateway's config inside the compose network: service names for OpenIM and Redis, the host's URL for clients. */
export function dockerGatewayConfig(input: DockerStackInput, jwtSecret: string): GatewayConfigInput {
  return {
    listen: { host: "0.0.0.0", port: 8000 },
    openimApi: "http://openim-server:10002",
    wsURL: `ws://${input.host}:${input.ports.nginx}/msg_gateway`,
    redis: `redis://:${DOCKER_REDIS_PASSWORD}@redis:6379`,
    adminSecret: input.adminSecret,
    adminUserID: input.adminUserID,
    jwt: { secret: jwtSecret },
    admins: [input.gatewayAdmin],
  };
}

export function dockerEndpoints(input: DockerStackInput, parts: StackEndpoints["parts"]): StackEndpoints {
  const { host, ports } = input;
  return {
    stack: "docker",
    nginx: `http://${host}:${ports.nginx}`,
    wsURL: `ws://${host}:${ports.nginx}/msg_gateway`,
    openimApi: `http://${host}:${ports.openimApi}`,
    openimWs: `ws://${host}:${ports.openimWs}`,
    redis: `redis://:${DOCKER_REDIS_PASSWORD}@${host}:${ports.redis}`,
    gateway: `http://${host}:${ports.gateway}`,
    gatewayAdmin: input.gatewayAdmin,
    etcd: `http://${host}:${ports.etcd}`,
    prometheus: `http://${host}:${ports.prometheus}`,
    adminSecret: input.adminSecret,
    adminUserID: input.adminUserID,
    parts,
  };
}

/** What each compose service is, as every report names it. */
const PART_NAMES: Record<string, { name: string; what: (image: string) => string }> = {
  "openim-server": {
    name: "openim",
    what: (image) => `OpenIM server (official image ${image}, every OpenIM service in one container)`,
  },
  mongo: { name: "mongo", what: (image) => `MongoDB, a real mongod (official image ${image})` },
  redis: { name: "redis", what: (image) => `Redis (official image ${image})` },
  etcd: { name: "etcd", what: (image) => `etcd (image ${image})` },
  kafka: { name: "kafka", what: (image) => `Apache Kafka, KRaft (image ${image})` },
  minio: { name: "minio", what: (image) => `MinIO (image ${image})` },
  gateway: {
    name: "gateway",
    what: (image) =>
      `cutover reference gateway (DH + JWT login, imToken cache, REST proxy, moderation hooks; ${image} built by containers/gateway.Dockerfile)`,
  },
  nginx: { name: "nginx", what: (image) => `nginx (official image ${image})` },
  prometheus: { name: "prometheus", what: (image) => `Prometheus (official image ${image})` },
};

/** Parts from the compose file's services and images, so reports always name what actually ran. */
export function dockerParts(services: Record<string, { image?: string }>): StackEndpoints["parts"] {
  return Object.entries(services).map(([service, spec]) => {
    const image = spec.image ?? "built from containers/compose.yaml";
    const known = PART_NAMES[service];
    if (!known) return { name: service, what: `${service} (image ${image})` };
    return { name: known.name, what: known.what(image) };
  });
}
