import net from "node:net";
import { Redis } from "ioredis";
import { request } from "undici";
import type { TargetProfile } from "../../conformance-runner/profile.js";
import { gatewayClient } from "../../drivers/gateway-client.js";
import type { StackEndpoints } from "../endpoints.js";
import { check, type HealthCheck, STATUS_PLATFORM, websocketLogin } from "../health-check.js";
import { openimAnswers } from "../local/openim-ready.js";
import { wiringChecks } from "../wiring-checks.js";

/**
 * Real checks of a stack known only by its endpoints (docker, external): each part that the
 * target offers is exercised; what it does not offer is listed as skipped, with the reason.
 */

const skipped = (name: string, reason: string): HealthCheck => ({
  name,
  ok: true,
  skipped: true,
  detail: reason,
});

async function httpStatus(url: string, timeoutMs = 3000): Promise<number> {
  const res = await request(url, { method: "GET", headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  await res.body.dump();
  return res.statusCode;
}

function tcpReachable(url: string, timeoutMs = 2000): Promise<void> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === "wss:" || u.protocol === "https:" ? 443 : 80));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: u.hostname, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", reject);
  });
}

async function redisPong(url: string): Promise<string> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    const pong = await redis.ping();
    if (pong !== "PONG") throw new Error(`PING answered ${pong}`);
    return "PONG";
  } finally {
    redis.disconnect();
  }
}

export async function checkEndpoints(
  endpoints: StackEndpoints,
  profile: TargetProfile,
): Promise<HealthCheck[]> {
  let adminToken: string | undefined;
  const checks = await Promise.all([
    check("nginx", async () => {
      const status = await httpStatus(`${endpoints.nginx}/healthz`);
      return status === 200 ? "/healthz ok" : `answers (HTTP ${status} for /healthz)`;
    }),
    endpoints.gateway
      ? check("gateway", async () => {
          const status = await httpStatus(`${endpoints.gateway}/healthz`);
          if (status !== 200) throw new Error(`/healthz answered HTTP ${status}`);
          return "/healthz ok";
        })
      : Promise.resolve(skipped("gateway", "no gateway URL (apps reach it through nginx)")),
    endpoints.gatewayAdmin
      ? check("gateway login via nginx", async () => {
          const admin = endpoints.gatewayAdmin;
          if (!admin) throw new Error("no gateway admin account");
          const client = gatewayClient(endpoints.nginx, { connections: 1 });
          try {
            const login = await client.login(admin.userID, admin.password, STATUS_PLATFORM);
            if (!login.imToken) throw new Error("login answered without an imToken");
            return "DH + JWT login via nginx /api/ minted an imToken";
          } finally {
            await client.close();
          }
        })
      : Promise.resolve(skipped("gateway login via nginx", "no gateway admin account to log in with")),
    profile.adminAccess
      ? check("openim api", async () => {
          adminToken = await openimAnswers(endpoints.openimApi, endpoints.adminSecret, endpoints.adminUserID);
          return "auth/get_admin_token and every RPC service answer errCode 0";
        })
      : Promise.resolve(skipped("openim api", "admin calls are not allowed against this target")),
    profile.redisAccess && endpoints.redis
      ? check("redis", () => redisPong(endpoints.redis))
      : Promise.resolve(skipped("redis", "the target's Redis is not offered")),
    endpoints.openimWs
      ? check("openim ws (direct)", async () => {
          await tcpReachable(endpoints.openimWs);
          return "port open";
        })
      : Promise.resolve(
          skipped("openim ws (direct)", "OpenIM's message gateway is reached only through nginx"),
        ),
  ]);
  const ws = adminToken
    ? await check("websocket via nginx", () => websocketLogin(endpoints, adminToken ?? ""))
    : skipped("websocket via nginx", "needs an admin token to mint a user token");
  return [...checks, ws, ...(await wiringChecks(endpoints))];
}
