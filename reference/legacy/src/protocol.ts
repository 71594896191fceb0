import { z } from "zod";

/**
 * The legacy stack's wire contract, in one place for its services and for cutover's
 * `legacy` driver: REST bodies, WebSocket frames, the RabbitMQ delivery job and the Redis
 * channel names. reference/legacy/README.md describes it for people.
 */

// ---- RabbitMQ: the chat service publishes one job per stored message; the consumer takes them.
export const DELIVERY_EXCHANGE = "legacy.chat";
export const DELIVERY_QUEUE = "legacy.deliveries";
export const DELIVERY_ROUTING_KEY = "deliver";

// ---- Redis pub/sub: one channel per recipient user; a websocket service subscribes while that user is connected.
export const userChannel = (userID: string): string => `legacy:user:${userID}`;
export const USER_CHANNEL_PREFIX = "legacy:user:";

import { userIDSchema } from "../../gateway/src/http-input.js";

export { userIDSchema };

/** Postgres text cannot hold NUL: refused at the edge as a 400, not a database error (500) later. */
const storableText = (s: z.ZodString) =>
  s.refine((v) => !v.includes("\u0000"), "must not contain NUL (\\u0000)");

// ---- REST (behind the DH + JWT login, `Authorization: Bearer <jwt>`)
export const sendBodySchema = z
  .object({
    recvID: userIDSchema.optional(),
    groupID: storableText(z.string().min(1).max(64)).optional(),
    /** The sender's own id for the message; generated when absent. */
    clientMsgID: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .optional(),
    text: storableText(
      z
        .string()
        .min(1)
        .max(64 * 1024),
    ),
  })
  .strict()
  .refine((b) => !!b.recvID !== !!b.groupID, { message: "exactly one of recvID or groupID" });
export type SendBody = z.infer<typeof sendBodySchema>;

export const sendAckSchema = z.object({
  conversationID: z.string(),
  seq: z.number().int().positive(),
  serverMsgID: z.string(),
  clientMsgID: z.string(),
  /** Unix ms, the chat service's clock when the message was stored. */
  sendTime: z.number(),
});
export type SendAckBody = z.infer<typeof sendAckSchema>;

export const createGroupBodySchema = z
  .object({
    memberUserIDs: z.array(userIDSchema).max(10_000).default([]),
    groupName: storableText(z.string().max(128)).default("group"),
  })
  .strict();

export const groupAnswerSchema = z.object({
  groupID: z.string(),
  conversationID: z.string(),
  memberCount: z.number().int(),
});

export const loginAnswerSchema = z.object({
  jwt: z.string(),
  wsURL: z.string(),
  userID: z.string(),
  platformID: z.number().int(),
  role: z.enum(["user", "admin"]),
  expiresAt: z.number(),
});
export type LegacyLoginAnswer = z.infer<typeof loginAnswerSchema>;

// ---- WebSocket frames (JSON text frames)
export const messageFrameSchema = z.object({
  type: z.literal("message"),
  conversationID: z.string(),
  seq: z.number().int().positive(),
  serverMsgID: z.string(),
  clientMsgID: z.string(),
  sendID: z.string(),
  recvID: z.string().optional(),
  groupID: z.string().optional(),
  text: z.string(),
  sendTime: z.number(),
});
export type MessageFrame = z.infer<typeof messageFrameSchema>;

export const serverFrameSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("hello"),
    userID: z.string(),
    platformID: z.number().int(),
    connectionID: z.string(),
  }),
  messageFrameSchema,
  z.object({ type: z.literal("pong"), id: z.string().optional() }),
  z.object({ type: z.literal("error"), code: z.string(), message: z.string() }),
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;

export const clientFrameSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ping"), id: z.string().max(64).optional() }),
]);

/** What the chat service publishes to RabbitMQ: the frame, already serialized once, and who gets it. */
export const deliveryJobSchema = z.object({
  recipients: z.array(z.string()).min(1),
  frame: z.string(),
});
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;
