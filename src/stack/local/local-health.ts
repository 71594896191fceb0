import { gatewayClient } from "../../drivers/gateway-client.js";
import type { StackEndpoints } from "../endpoints.js";
import { check, type HealthCheck, STATUS_PLATFORM, websocketLogin } from "../health-check.js";
import { wiringChecks } from "../wiring-checks.js";
import { kafkaHealthy } from "./kafka.js";
import { checkLegacyHealth } from "./legacy-health.js";
import { httpGetOk, redisPing, tcpOpen } from "./net-probes.js";
import { openimAnswers } from "./openim-ready.js";
import { isAlive } from "./processes.js";
import { REDIS_PASSWORD } from "./services.js";
import type { RunState } from "./state.js";

export type { HealthCheck };

import { promTargets } from "../../server-metrics/prom-api.js";

/** The gateway answers, and a real DH + JWT login through nginx comes back with an imToken. */
async function gatewayLogin(endpoints: StackEndpoints): Promise<string> {
  if (!endpoints.gateway) throw new Error("this stack has no gateway");
  if (!(await httpGetOk(`${endpoints.gateway}/healthz`))) throw new Error("/healthz not ok");
  if (!endpoints.gatewayAdmin) return "/healthz ok (no admin account to log in with)";
  const client = gatewayClient(endpoints.nginx, { connections: 1 });
  try {
    const login = await client.login(
      endpoints.gatewayAdmin.userID,
      endpoints.gatewayAdmin.password,
      STATUS_PLATFORM,
    );
    if (!login.imToken) throw new Error("login answered without an imToken");
    return "/healthz ok; DH + JWT login via nginx /api/ minted an imToken";
  } finally {
    await client.close();
  }
}

const portOf = (url: string) => Number(new URL(url.replace(/^ws/, "http").replace(/^redis/, "http")).port);
const expect = (ok: boolean, yes: string, no: string) => {
  if (!ok) throw new Error(no);
  return yes;
};

/** One port check per message-gateway instance: `openim ws` for one, `openim ws 0`, `openim ws 1`, … for several. */
function msgGatewayChecks(endpoints: StackEndpoints): Array<Promise<HealthCheck>> {
  const urls = endpoints.openimWsInstances ?? [endpoints.openimWs];
  return urls.map((url, i) =>
    check(urls.length > 1 ? `openim ws ${i}` : "openim ws", async () =>
      expect(await tcpOpen(portOf(url)), "port open", "port closed"),
    ),
  );
}

/** Checks every component for real; the stack is healthy only when every check passes. */
/** The server's books need every OpenIM service scraped: a target down is a book that cannot be read. */
async function prometheusScrapes(prometheus: string): Promise<string> {
  const targets = (await promTargets(prometheus)).filter((t) => t.job.startsWith("openim-"));
  const down = targets.filter((t) => t.health !== "up");
  if (targets.length === 0) throw new Error("scrapes no OpenIM service");
  if (down.length > 0)
    throw new Error(`cannot scrape ${down.map((t) => `${t.job} (${t.lastError || t.health})`).join(", ")}`);
  return `scrapes all ${targets.length} OpenIM metrics endpoints`;
}

export async function checkLocalHealth(state: RunState): Promise<HealthCheck[]> {
  const endpoints = state.endpoints;
  const processChecks: HealthCheck[] = state.processes.map((p) => ({
    name: `process ${p.name}`,
    ok: isAlive(p),
    detail: isAlive(p) ? `pid ${p.pid}` : `pid ${p.pid} is gone (log: ${p.log})`,
  }));
  if (!endpoints)
    return [...processChecks, { name: "stack", ok: false, detail: "the stack never finished starting" }];
  let adminToken: string | undefined;
  const legacy = checkLegacyHealth(endpoints);
  const checks = await Promise.all([
    check("redis", async () =>
      expect(await redisPing(portOf(endpoints.redis), REDIS_PASSWORD), "PONG", "no PONG"),
    ),
    check("etcd", async () =>
      expect(await httpGetOk(`${endpoints.etcd}/health`), "/health ok", "/health not ok"),
    ),
    check("kafka", async () =>
      expect(
        await kafkaHealthy(Number(endpoints.kafka?.split(":")[1])),
        "broker answers, OpenIM topics exist",
        "topics missing",
      ),
    ),
    check("nginx", async () =>
      expect(await httpGetOk(`${endpoints.nginx}/healthz`), "/healthz ok", "/healthz not ok"),
    ),
    check("openim api", async () => {
      adminToken = await openimAnswers(endpoints.openimApi, endpoints.adminSecret, endpoints.adminUserID);
      return "auth/get_admin_token and every RPC service answer errCode 0";
    }),
    check("gateway", () => gatewayLogin(endpoints)),
    ...msgGatewayChecks(endpoints),
    ...(endpoints.prometheus
      ? [check("prometheus", () => prometheusScrapes(endpoints.prometheus as string))]
      : []),
  ]);
  const ws = await check("websocket via nginx", () => {
    if (!adminToken) throw new Error("skipped: no admin token");
    return websocketLogin(endpoints, adminToken);
  });
  const wiring = ws.ok ? await wiringChecks(endpoints) : [];
  return [...processChecks, ...checks, ws, ...wiring, ...(await legacy)];
}
