import { Redis } from "ioredis";
import { jwtCodec } from "../../gateway/src/jwt.js";
import { processRegistry } from "../../gateway/src/process-metrics.js";
import { readLegacyConfig } from "./config.js";
import { websocketMetrics } from "./legacy-metrics.js";
import { fatal, runService } from "./service.js";
import { buildWebsocketServer } from "./websocket-server.js";

/** `legacy-websocket --config legacy.json`: delivers what the consumer publishes to connected clients. */
runService("legacy-websocket", async () => {
  const config = readLegacyConfig(process.argv);
  // ioredis reconnects and resubscribes by itself (what was published meanwhile is lost, as pub/sub goes);
  // "end" means it gave up, and a websocket service that can deliver nothing should stop loudly.
  const subscriber = new Redis(config.redis, { maxRetriesPerRequest: 2, autoResubscribe: true });
  subscriber.on("error", () => {});
  subscriber.on("end", fatal("legacy-websocket", "Redis connection ended"));
  const ws = buildWebsocketServer({
    jwt: jwtCodec(config.jwt),
    subscriber,
    metrics: websocketMetrics(processRegistry()),
  });
  await new Promise<void>((resolve, reject) => {
    ws.server.once("error", reject);
    ws.server.listen(config.websocket.port, config.websocket.host, resolve);
  });
  return {
    address: `ws://${config.websocket.host}:${config.websocket.port}/ws`,
    stop: async () => {
      subscriber.removeAllListeners("end");
      await Promise.race([ws.close(), new Promise((r) => setTimeout(r, 1000))]);
      subscriber.disconnect();
    },
  };
});
