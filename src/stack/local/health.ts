import { request } from "undici";
import { gatewayClient } from "../../drivers/gateway-client.js";
import {
  createRestClient,
  getUserToken,
  OpenImError,
  OpenImWsClient,
  registerUsers,
} from "../../protocol/index.js";
import type { StackEndpoints } from "../endpoints.js";
import { kafkaHealthy } from "./kafka.js";
import { checkLegacyHealth } from "./legacy-health.js";
import { openimAnswers } from "./openim-ready.js";
import { httpGetOk, redisPing, tcpOpen } from "./probes.js";
import { isAlive } from "./processes.js";
import { REDIS_PASSWORD } from "./services.js";
import type { RunState } from "./state.js";

export interface HealthCheck {
  name: string;
  ok: boolean;
  detail: string;
}

const STATUS_USER = "cutover_status_probe";
const STATUS_PLATFORM = 7; // Linux: a platform no suite uses, so the probe never kicks a test's session.

/** Registers the status probe user if needed and opens an authenticated WebSocket through nginx. */
async function websocketThroughNginx(endpoints: StackEndpoints, adminToken: string): Promise<string> {
  const rest = createRestClient({ baseUrl: endpoints.openimApi, connections: 1 });
  try {
    await registerUsers(rest, adminToken, [{ userID: STATUS_USER, nickname: "cutover status" }]).catch(
      (err: unknown) => {
        if (!(err instanceof OpenImError && err.errCode === 1102)) throw err; // 1102: registered already
      },
    );
    const { token } = await getUserToken(rest, adminToken, STATUS_USER, STATUS_PLATFORM);
    const client = await OpenImWsClient.connect({
      wsUrl: endpoints.wsURL,
      userID: STATUS_USER,
      token,
      platformID: STATUS_PLATFORM,
      handshakeTimeoutMs: 3000,
      heartbeat: false,
      reconnect: false,
    });
    await client.close();
    return "authenticated WebSocket accepted via nginx /msg_gateway";
  } finally {
    await rest.close();
  }
}

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

async function check(name: string, probe: () => Promise<string>): Promise<HealthCheck> {
  try {
    return { name, ok: true, detail: await probe() };
  } catch (err) {
    return { name, ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}

const portOf = (url: string) => Number(new URL(url.replace(/^ws/, "http").replace(/^redis/, "http")).port);
const expect = (ok: boolean, yes: string, no: string) => {
  if (!ok) throw new Error(no);
  return yes;
};

/** Checks every component for real; the stack is healthy only when every check passes. */
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
    check("openim ws", async () =>
      expect(await tcpOpen(portOf(endpoints.openimWs)), "port open", "port closed"),
    ),
  ]);
  const ws = await check("websocket via nginx", () => {
    if (!adminToken) throw new Error("skipped: no admin token");
    return websocketThroughNginx(endpoints, adminToken);
  });
  return [...processChecks, ...checks, ws, ...(await legacy)];
}
