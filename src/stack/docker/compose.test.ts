import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { gatewayConfigSchema } from "../../../reference/gateway/src/config.js";
import { describeEnvironment } from "../../run/environment.js";
import { packageRoot } from "../../util/package-root.js";
import { OPENIM_TOPICS } from "../local/kafka.js";
import { composeFilePath, readComposeFile } from "./compose-file.js";
import { failedService } from "./docker-stack.js";
import { DOCKER_NGINX_ROUTES, renderDockerNginxConf } from "./nginx-conf.js";
import { renderDockerPrometheusConf } from "./prometheus-conf.js";
import {
  assignDockerPorts,
  composeEnvironment,
  type DockerStackInput,
  dockerEndpoints,
  dockerGatewayConfig,
  dockerParts,
  FALLBACK_PORTS,
  PUBLISHED_PORTS,
} from "./services.js";

const compose = readComposeFile();
const composeText = readFileSync(composeFilePath(), "utf8");
const services = compose.services;

const input: DockerStackInput = {
  host: "127.0.0.1",
  ports: assignDockerPorts([21000, 21001, 21002, 21003, 21004, 21005, 21006, 21007]),
  adminSecret: "s3cret",
  adminUserID: "imAdmin",
  gatewayAdmin: { userID: "cutover_admin", password: "admin-password" },
};
const gatewayConfig = dockerGatewayConfig(input, "k".repeat(43));

describe("containers/compose.yaml: images", () => {
  // OpenIM's own compose for v3.8.3 (open-im-server .env at the tag; openim-docker for the server image).
  const pinned: Record<string, RegExp> = {
    "openim-server": /^openim\/openim-server:v3\.8\.3-patch\.\d+$/,
    mongo: /^mongo:7\.0\.\d+$/,
    redis: /^redis:7\.0\.0$/,
    kafka: /^bitnamilegacy\/kafka:3\.5\.1$/,
    minio: /^minio\/minio:RELEASE\.2024-01-11T07-46-16Z$/,
    etcd: /^quay\.io\/coreos\/etcd:v3\.5\.13$/,
    nginx: /^nginx:\d+\.\d+\.\d+-alpine$/,
    gateway: /^cutover-gateway:\d+\.\d+\.\d+$/,
    // The one the local stack builds from the Go module proxy (module v0.316.0).
    prometheus: /^prom\/prometheus:v3\.16\.0$/,
  };

  test("every service is one of the stack's parts, with the version OpenIM's v3.8.3 compose pins", () => {
    expect(Object.keys(services).sort()).toEqual(Object.keys(pinned).sort());
    for (const [name, spec] of Object.entries(services)) expect(spec.image, name).toMatch(pinned[name]!);
  });

  test("no image floats: every one has an explicit tag and none is latest", () => {
    for (const [name, spec] of Object.entries(services)) {
      const tag = spec.image?.split("/").pop()?.split(":")[1];
      expect(tag, name).toBeTruthy();
      expect(tag, name).not.toBe("latest");
    }
  });

  test("the gateway image is built from reference/gateway by containers/gateway.Dockerfile", () => {
    expect(services.gateway!.build).toEqual({ context: "..", dockerfile: "containers/gateway.Dockerfile" });
    const dockerfile = readFileSync(path.join(packageRoot(), "containers", "gateway.Dockerfile"), "utf8");
    for (const from of dockerfile.split("\n").filter((l) => l.startsWith("FROM ")))
      expect(from).toMatch(/^FROM node:\d+\.\d+\.\d+-alpine( AS \w+)?$/);
    expect(dockerfile).toContain("tsconfig.build.json");
    expect(readFileSync(path.join(packageRoot(), "containers", "gateway-entrypoint.mjs"), "utf8")).toContain(
      "dist/reference/gateway/src/main.js",
    );
  });
});

describe("containers/compose.yaml: health and order", () => {
  test("every service has a health check", () => {
    for (const [name, spec] of Object.entries(services)) expect(spec.healthcheck?.test, name).toBeDefined();
  });

  test("OpenIM is healthy only when auth/get_admin_token answers errCode 0", () => {
    const testCmd = [services["openim-server"]!.healthcheck!.test].flat().join(" ");
    expect(testCmd).toContain("/auth/get_admin_token");
    expect(testCmd).toContain(`grep -q '"errCode":0'`);
    expect(testCmd).toContain("operationID");
  });

  test("OpenIM starts after its dependencies and the gateway are healthy; nginx after both", () => {
    const dependsOn = (name: string) => services[name]!.depends_on as Record<string, { condition: string }>;
    for (const dep of ["mongo", "redis", "etcd", "kafka", "minio", "gateway"])
      expect(dependsOn("openim-server")[dep], dep).toEqual({ condition: "service_healthy" });
    expect(Object.keys(dependsOn("nginx")).sort()).toEqual(["gateway", "openim-server"]);
  });

  test("OpenIM's offline push calls no outside service and its message hooks go to the gateway", () => {
    const env = services["openim-server"]!.environment as Record<string, string>;
    expect(env.IMENV_OPENIM_PUSH_ENABLE).toBe("none");
    expect(env.IMENV_WEBHOOKS_URL).toBe("http://gateway:8000/webhooks/openim");
    expect(env.IMENV_WEBHOOKS_BEFORESENDSINGLEMSG_ENABLE).toBe("true");
  });
});

describe("nginx: the local stack's routing", () => {
  test("containers/nginx.conf is the shared template rendered for the compose network", () => {
    const committed = readFileSync(path.join(packageRoot(), "containers", "nginx.conf"), "utf8");
    expect(committed, "regenerate: npx tsx src/stack/docker/write-nginx-conf.ts").toBe(
      renderDockerNginxConf(),
    );
  });

  test("its upstreams are the compose services' ports, and OpenIM's REST API is not routed", () => {
    const conf = renderDockerNginxConf();
    expect(conf).toContain(`proxy_pass http://${DOCKER_NGINX_ROUTES.openimWs};`);
    expect(conf).toContain(`proxy_pass http://${DOCKER_NGINX_ROUTES.gateway};`);
    expect(conf).not.toContain("10002");
    expect(services.nginx!.volumes).toContain("./nginx.conf:/etc/nginx/conf.d/default.conf:ro,z");
  });
});

describe("Prometheus: the local stack's scrape jobs", () => {
  test("containers/prometheus.yml is rendered from the same jobs, at OpenIM's stock metrics ports inside openim-server", () => {
    const committed = readFileSync(path.join(packageRoot(), "containers", "prometheus.yml"), "utf8");
    expect(committed, "regenerate: npx tsx src/stack/docker/write-prometheus-conf.ts").toBe(
      renderDockerPrometheusConf(),
    );
    expect(committed).toContain("openim-server:12280"); // openim-rpc-msg.yml prometheus.ports[0]
    expect(services.prometheus!.volumes).toContain("./prometheus.yml:/etc/prometheus/prometheus.yml:ro,z");
  });
});

describe("compose services → endpoints", () => {
  test("each published port is set by one variable, on 127.0.0.1, to the container port the mapping says", () => {
    const published = Object.entries(services).flatMap(([name, spec]) =>
      (spec.ports ?? []).map((p) => ({ name, p })),
    );
    expect(published).toHaveLength(PUBLISHED_PORTS.length);
    for (const p of PUBLISHED_PORTS) {
      expect(services[p.service]!.ports, p.key).toContain(
        `\${CUTOVER_PUBLISH_IP:-127.0.0.1}:\${${p.variable}:-${p.fallback}}:${p.containerPort}`,
      );
    }
    expect(services.mongo!.ports).toBeUndefined();
    expect(services.kafka!.ports).toBeUndefined();
  });

  test("the environment cutover passes sets every variable the compose file reads", () => {
    const read = new Set([...composeText.matchAll(/\$\{(CUTOVER_\w+)/g)].map((m) => m[1]!));
    const env = composeEnvironment(input, gatewayConfig);
    // The admin account and a mounted config folder are for a plain `docker compose up`.
    const manualOnly = [
      "CUTOVER_GATEWAY_ADMIN_ACCOUNT",
      "CUTOVER_GATEWAY_ADMIN_PASSWORD",
      "CUTOVER_GATEWAY_CONFIG_DIR",
    ];
    expect([...read].filter((v) => !(v in env) && !manualOnly.includes(v))).toEqual([]);
    expect(env.CUTOVER_NGINX_PORT).toBe("21000");
    expect(env.CUTOVER_OPENIM_API_PORT).toBe("21002");
    expect(env.CUTOVER_GATEWAY_CONFIG_DIR).toBeUndefined();
  });

  test("the endpoints are the same object as the local stack's, on the published ports", () => {
    const e = dockerEndpoints(input, dockerParts(services));
    expect(e).toMatchObject({
      stack: "docker",
      nginx: "http://127.0.0.1:21000",
      wsURL: "ws://127.0.0.1:21000/msg_gateway",
      gateway: "http://127.0.0.1:21001",
      openimApi: "http://127.0.0.1:21002",
      openimWs: "ws://127.0.0.1:21003",
      redis: "redis://:openIM123@127.0.0.1:21004",
      etcd: "http://127.0.0.1:21005",
      adminSecret: "s3cret",
      adminUserID: "imAdmin",
      gatewayAdmin: input.gatewayAdmin,
    });
    expect(FALLBACK_PORTS.nginx).toBe(18080);
  });

  test("the gateway's config reaches OpenIM and Redis by service name and hands clients the host's WebSocket URL", () => {
    const gateway = gatewayConfigSchema.parse(dockerGatewayConfig(input, "k".repeat(43)));
    const endpoints = dockerEndpoints(input, []);
    expect(gateway.wsURL).toBe(endpoints.wsURL);
    expect(gateway.openimApi).toBe("http://openim-server:10002");
    expect(gateway.redis).toBe("redis://:openIM123@redis:6379");
    expect(gateway.listen).toEqual({ host: "0.0.0.0", port: 8000 });
    expect(gateway.admins).toEqual([input.gatewayAdmin]);
  });

  test("reports name every part honestly: a real mongod, the OpenIM image, no stand-ins", () => {
    const parts = dockerParts(services);
    expect(parts.find((p) => p.name === "mongo")?.what).toMatch(/real mongod.*mongo:7\.0\.\d+/);
    expect(parts.find((p) => p.name === "openim")?.what).toContain("openim/openim-server:v3.8.3-patch.");
    expect(parts.some((p) => /stand-in/.test(p.what))).toBe(false);
  });

  test("results name the docker stack as started by cutover, real parts, on this machine", () => {
    const env = describeEnvironment(dockerEndpoints(input, dockerParts(services)));
    expect(env).toMatchObject({ stack: "docker", startedByCutover: true, generatorSharesMachine: true });
    expect(env.caveats.join("\n")).toMatch(/real MongoDB/);
    expect(env.caveats.join("\n")).toMatch(/shares this machine/);
    expect(env.caveats.join("\n")).not.toMatch(/stand-in/);
  });

  test("a failed start names the service whose container failed", () => {
    const names = Object.keys(services);
    expect(
      failedService("dependency failed to start: container cutover-1a2b-openim-server-1 is unhealthy", names),
    ).toBe("openim-server");
    expect(failedService("Container cutover-1a2b-mongo-1  Error", names)).toBe("mongo");
    expect(failedService("network timeout", names)).toBeUndefined();
  });
});

describe("containers/compose.yaml: engines that are not rootful Docker on a plain host", () => {
  test("rootless Docker/Podman: the gateway's config reaches it as a variable, never as a host file it must own", () => {
    const gateway = services.gateway!;
    expect(gateway.user).toBeUndefined();
    expect((gateway.environment as Record<string, string>).GATEWAY_CONFIG_JSON).toBe(
      `\${CUTOVER_GATEWAY_CONFIG_JSON:-}`,
    );
    const env = composeEnvironment(input, gatewayConfig);
    expect(gatewayConfigSchema.parse(JSON.parse(env.CUTOVER_GATEWAY_CONFIG_JSON!))).toMatchObject({
      wsURL: "ws://127.0.0.1:21000/msg_gateway",
      admins: [input.gatewayAdmin],
    });
    const entrypoint = readFileSync(path.join(packageRoot(), "containers", "gateway-entrypoint.mjs"), "utf8");
    expect(entrypoint).toContain("env.GATEWAY_CONFIG_JSON");
  });

  test("SELinux hosts: every bind mount of a host path is relabelled (:z)", () => {
    const mounts = Object.entries(services).flatMap(([name, spec]) =>
      ((spec.volumes as string[] | undefined) ?? []).map((v) => ({ name, v })),
    );
    expect(mounts.length).toBeGreaterThan(0);
    for (const { name, v } of mounts) expect(v, name).toMatch(/:ro,z$/);
  });

  test("OpenIM's Kafka topics exist, with 8 partitions, before OpenIM starts: Kafka is healthy only then", () => {
    const testCmd = [services.kafka!.healthcheck!.test].flat().join(" ");
    expect(testCmd).toContain(`for t in ${OPENIM_TOPICS.join(" ")};`);
    expect(testCmd).toContain("--create --if-not-exists");
    expect(testCmd).toContain("--partitions 8");
    const dependsOn = services["openim-server"]!.depends_on as Record<string, { condition: string }>;
    expect(dependsOn.kafka).toEqual({ condition: "service_healthy" });
  });
});
