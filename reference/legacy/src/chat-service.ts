import { Redis } from "ioredis";
import pg from "pg";
import { dhSessions } from "../../gateway/src/dh-sessions.js";
import { jwtCodec } from "../../gateway/src/jwt.js";
import { processRegistry } from "../../gateway/src/process-metrics.js";
import { userStore } from "../../gateway/src/user-store.js";
import { buildChatService } from "./chat-server.js";
import { readLegacyConfig } from "./config.js";
import { chatMetrics } from "./legacy-metrics.js";
import { deliveryPublisher } from "./publisher.js";
import { fatal, runService } from "./service.js";
import { chatStore } from "./store.js";

/** `legacy-chat --config legacy.json`: the legacy stack's edge and chat service. */
runService("legacy-chat", async () => {
  const config = readLegacyConfig(process.argv);
  const redis = new Redis(config.redis, { maxRetriesPerRequest: 2 });
  const pool = new pg.Pool({ connectionString: config.postgres, max: config.poolSize });
  pool.on("error", () => {}); // an idle client's error; the next query reports it
  const store = chatStore(pool);
  await store.migrate();
  const publisher = await deliveryPublisher(config.amqp);
  publisher.connection.on("close", fatal("legacy-chat", "RabbitMQ connection closed"));
  publisher.connection.on("error", () => {}); // followed by "close"
  const app = buildChatService({
    config,
    redis,
    users: userStore(redis),
    sessions: dhSessions(redis, config.handshakeTtlSeconds),
    jwt: jwtCodec(config.jwt),
    store,
    publish: publisher.publish,
    metrics: chatMetrics(processRegistry()),
    health: async () => ({
      redis: await redis.ping().then(
        (r) => r === "PONG",
        () => false,
      ),
      postgres: await pool.query("SELECT 1").then(
        () => true,
        () => false,
      ),
    }),
  });
  const address = await app.listen({ host: config.chat.host, port: config.chat.port });
  return {
    address,
    stop: async () => {
      await app.close();
      publisher.connection.removeAllListeners("close");
      await publisher.close();
      await pool.end();
      redis.disconnect();
    },
  };
});
