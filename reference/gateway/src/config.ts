import { readFileSync } from "node:fs";
import { z } from "zod";

/** The reference gateway's own config, written by `cutover up` into the run dir (or by a team's deployment). */
export const gatewayConfigSchema = z
  .object({
    listen: z.object({ host: z.string().default("127.0.0.1"), port: z.number().int().min(0).max(65535) }),
    openimApi: z.url(),
    /** The WebSocket URL returned to clients: nginx's /msg_gateway route, straight to OpenIM. */
    wsURL: z.string().regex(/^wss?:\/\//),
    redis: z.string().regex(/^rediss?:\/\//),
    adminSecret: z.string().min(1),
    adminUserID: z.string().min(1),
    jwt: z.object({
      /** HS256 key, at least 32 bytes. */
      secret: z.string().min(32),
      ttlSeconds: z.number().int().positive().default(3600),
      issuer: z.string().default("cutover-gateway"),
      audience: z.string().default("cutover"),
    }),
    /** Accounts with the admin role, created (or reset) at start. */
    admins: z
      .array(z.object({ userID: z.string().regex(/^[A-Za-z0-9_]+$/), password: z.string().min(8) }))
      .default([]),
    moderation: z
      .object({
        bannedWords: z.array(z.string().min(1)).default([]),
        /** The errCode a sender sees when a before-send hook denies the message. */
        denyErrCode: z.number().int().positive().default(20001),
      })
      .prefault({}),
    handshakeTtlSeconds: z.number().int().positive().default(60),
    /**
     * Deliberate defects, for proving that the conformance suites catch a broken gateway.
     * Never set outside cutover's own tests.
     */
    faults: z
      .object({
        /** Logout forgets nothing: the imToken stays cached and valid in OpenIM. */
        keepImTokenAfterLogout: z.boolean().default(false),
        /** Tokens with `alg: none` are accepted unverified. */
        acceptAlgNone: z.boolean().default(false),
      })
      .prefault({}),
  })
  .strict();

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;

export function readGatewayConfig(file: string): GatewayConfig {
  return gatewayConfigSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}
