import { z } from "zod";
import { STACK_KINDS } from "./stack-kinds.js";

/**
 * What every stack provider returns (local, docker, external): the addresses suites,
 * drivers and the load engine use. Nothing downstream knows which provider made it.
 */
export const stackEndpointsSchema = z.object({
  stack: z.enum(STACK_KINDS),
  /** Base URL of nginx: REST under /api/ (the gateway), WebSocket under /msg_gateway (OpenIM). */
  nginx: z.string(),
  /** WebSocket URL clients use: nginx's /msg_gateway route, straight to OpenIM's message gateway. */
  wsURL: z.string(),
  /** OpenIM's REST API, internal: admin calls only, never exposed through nginx. */
  openimApi: z.string(),
  /** OpenIM's message gateway without nginx in between (its first instance, when it runs several). */
  openimWs: z.string(),
  /**
   * Every message-gateway instance's own WebSocket URL, by instance index (`openimWs` first),
   * so a case can pin a user to one instance; nginx spreads `wsURL` over all of them. Only
   * stacks that know their instances list them (the local stack); absent elsewhere.
   */
  openimWsInstances: z.array(z.string()).optional(),
  redis: z.string(),
  /** The reference gateway, once the stack has one. */
  gateway: z.string().optional(),
  /** An account with the gateway's admin role, when the stack's owner allows admin calls. */
  gatewayAdmin: z.object({ userID: z.string(), password: z.string() }).optional(),
  kafka: z.string().optional(),
  etcd: z.string().optional(),
  /**
   * A Prometheus server that scrapes the stack's OpenIM (its HTTP API base URL): the local and
   * docker stacks run their own; an external stack names the team's (`target.prometheus`).
   */
  prometheus: z.string().optional(),
  /** The legacy pipeline being retired, when the stack runs it: REST and WebSocket through nginx's /legacy/. */
  legacy: z
    .object({
      /** REST base (DH + JWT login under /api/auth, sends under /api/messages). */
      baseURL: z.string(),
      /** The legacy websocket service, as clients reach it. */
      wsURL: z.string(),
      /** Internal addresses, for status checks: never what a client uses. */
      internal: z
        .object({
          chat: z.string(),
          websocket: z.string(),
          consumer: z.string(),
          postgres: z.string(),
          amqp: z.string(),
        })
        .optional(),
    })
    .optional(),
  adminSecret: z.string(),
  adminUserID: z.string(),
  /** What the stack is made of, named honestly (stand-ins included) for every report. */
  parts: z.array(z.object({ name: z.string(), what: z.string(), note: z.string().optional() })),
});

export type StackEndpoints = z.infer<typeof stackEndpointsSchema>;
