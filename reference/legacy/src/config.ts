import { readFileSync } from "node:fs";
import { z } from "zod";
import { gatewayConfigSchema } from "../../gateway/src/config.js";

/**
 * One config file for the three legacy services (chat service, consumer, websocket
 * service), written by `cutover up` into the run dir, or by a team's own deployment.
 * The JWT section is the reference gateway's own: both stacks log in the same way.
 */
const listenSchema = z.object({
  host: z.string().default("127.0.0.1"),
  port: z.number().int().min(0).max(65535),
});

export const legacyConfigSchema = z
  .object({
    chat: listenSchema,
    websocket: listenSchema,
    /** The consumer serves only /healthz and /metrics. */
    consumer: listenSchema,
    /** postgres://user:password@host:port/database */
    postgres: z.string().regex(/^postgres(ql)?:\/\//),
    /** amqp://user:password@host:port */
    amqp: z.string().regex(/^amqps?:\/\//),
    /** Accounts and handshakes live here (its own database number); pub/sub is server-wide. */
    redis: z.string().regex(/^rediss?:\/\//),
    /** The WebSocket URL login hands to clients: nginx's /legacy/ws route. */
    wsURL: z.string().regex(/^wss?:\/\//),
    jwt: gatewayConfigSchema.shape.jwt,
    handshakeTtlSeconds: z.number().int().positive().default(60),
    /** Postgres connections per chat service process. */
    poolSize: z.number().int().positive().default(16),
    /** Unacknowledged deliveries the consumer holds at once. */
    prefetch: z.number().int().positive().default(256),
  })
  .strict();

export type LegacyConfig = z.output<typeof legacyConfigSchema>;
export type LegacyConfigInput = z.input<typeof legacyConfigSchema>;

export function readLegacyConfig(argv: string[]): LegacyConfig {
  const index = argv.indexOf("--config");
  const file = index >= 0 ? argv[index + 1] : undefined;
  if (!file) throw new Error("--config <file> is required");
  return legacyConfigSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}
