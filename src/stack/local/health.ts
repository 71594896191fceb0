import { request } from "undici";
import WebSocket from "ws";
import type { StackEndpoints } from "../endpoints.js";
import { kafkaHealthy } from "./kafka.js";
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

async function adminPost(
  api: string,
  route: string,
  token: string,
  body: unknown,
): Promise<{ errCode: number; errMsg?: string; data?: unknown }> {
  const res = await request(`${api}/${route}`, {
    method: "POST",
    headers: { "content-type": "application/json", operationID: `cutover-status-${Date.now()}`, token },
    body: JSON.stringify(body),
    headersTimeout: 3000,
    bodyTimeout: 3000,
  });
  return (await res.body.json()) as { errCode: number; errMsg?: string; data?: unknown };
}

/** Registers the status probe user if needed and opens an authenticated WebSocket through nginx. */
async function websocketThroughNginx(endpoints: StackEndpoints, adminToken: string): Promise<string> {
  const reg = await adminPost(endpoints.openimApi, "user/user_register", adminToken, {
    users: [{ userID: STATUS_USER, nickname: "cutover status" }],
  });
  if (reg.errCode !== 0 && reg.errCode !== 1102) throw new Error(`user_register errCode ${reg.errCode}`);
  const tok = await adminPost(endpoints.openimApi, "auth/get_user_token", adminToken, {
    userID: STATUS_USER,
    platformID: STATUS_PLATFORM,
  });
  const token = (tok.data as { token?: string } | undefined)?.token;
  if (tok.errCode !== 0 || !token) throw new Error(`get_user_token errCode ${tok.errCode}`);
  const url = `${endpoints.wsURL}?sendID=${STATUS_USER}&token=${encodeURIComponent(token)}&platformID=${STATUS_PLATFORM}&operationID=status${Date.now()}&sdkType=js&isMsgResp=true`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: 3000 });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("no handshake answer in 3s"));
    }, 3500);
    ws.once("message", (data) => {
      clearTimeout(timer);
      const text = data.toString();
      ws.close();
      const parsed = JSON.parse(text) as { errCode?: number };
      if (parsed.errCode === 0) resolve("authenticated WebSocket accepted via nginx /msg_gateway");
      else reject(new Error(`handshake answered ${text}`));
    });
    ws.once("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`upgrade refused with HTTP ${res.statusCode}`));
    });
    ws.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
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
    check("openim ws", async () =>
      expect(await tcpOpen(portOf(endpoints.openimWs)), "port open", "port closed"),
    ),
  ]);
  const ws = await check("websocket via nginx", () => {
    if (!adminToken) throw new Error("skipped: no admin token");
    return websocketThroughNginx(endpoints, adminToken);
  });
  return [...processChecks, ...checks, ws];
}
