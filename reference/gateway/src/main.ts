import { Redis } from "ioredis";
import { createRestClient } from "../../../src/protocol/index.js";
import { adminTokenSource } from "./admin-token.js";
import { readGatewayConfig } from "./config.js";
import { dhSessions } from "./dh-sessions.js";
import { gatewayMetrics } from "./gateway-metrics.js";
import { jwtCodec } from "./jwt.js";
import { moderation } from "./moderation.js";
import { openimBridge } from "./openim-bridge.js";
import { processRegistry } from "./process-metrics.js";
import { buildGateway } from "./server.js";
import { userStore } from "./user-store.js";
import { watchdog } from "./watchdog.js";

/** The reference gateway as a process: `gateway --config gateway.json`. */
async function main(): Promise<void> {
  const index = process.argv.indexOf("--config");
  const file = index >= 0 ? process.argv[index + 1] : undefined;
  if (!file) {
    process.stderr.write("gateway: --config <file> is required\n");
    process.exit(2);
  }
  const config = readGatewayConfig(file);
  const redis = new Redis(config.redis, { maxRetriesPerRequest: 2, lazyConnect: false });
  const rest = createRestClient({ baseUrl: config.openimApi, connections: 64 });
  const admin = adminTokenSource(rest, config.adminSecret, config.adminUserID);
  const users = userStore(redis);
  for (const a of config.admins) await users.upsert(a.userID, a.password, "admin");
  const metrics = gatewayMetrics(processRegistry());
  const { app } = buildGateway({
    config,
    redis,
    rest,
    admin,
    users,
    bridge: openimBridge(rest, admin, redis, metrics),
    sessions: dhSessions(redis, config.handshakeTtlSeconds),
    jwt: jwtCodec(config.jwt, config.faults),
    moderation: moderation(users, config.moderation.bannedWords, config.moderation.denyErrCode, metrics),
    metrics,
  });
  const stopWatchdog = watchdog(app, redis);
  const address = await app.listen({ host: config.listen.host, port: config.listen.port });
  process.stdout.write(`gateway listening on ${address}\n`);
  const stop = async () => {
    stopWatchdog();
    await app.close();
    await rest.close();
    redis.disconnect();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
