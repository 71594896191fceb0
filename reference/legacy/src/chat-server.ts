import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import { groupConversationID, newClientMsgID, singleConversationID } from "../../../src/protocol/ids.js";
import type { DhSessions } from "../../gateway/src/dh-sessions.js";
import { credentialsSchema, HttpError, loginSchema, parse } from "../../gateway/src/http-input.js";
import type { JwtCodec, SessionClaims } from "../../gateway/src/jwt.js";
import { addHandshakeAndRegistration } from "../../gateway/src/login-routes.js";
import type { UserStore } from "../../gateway/src/user-store.js";
import type { LegacyConfig } from "./config.js";
import type { ChatMetrics } from "./legacy-metrics.js";
import {
  createGroupBodySchema,
  type DeliveryJob,
  type MessageFrame,
  type SendAckBody,
  sendBodySchema,
} from "./protocol.js";
import type { ChatStore } from "./store.js";

/**
 * messenger-chat-service: the legacy stack's edge. The same DH + JWT login as the
 * reference gateway (its modules, not copies), REST send and group creation stored in
 * Postgres, each stored message published to RabbitMQ. WebSocket upgrades on /ws are
 * passed through to the websocket service, so one nginx upstream serves the whole stack.
 */
export interface ChatParts {
  config: LegacyConfig;
  redis: Redis;
  users: UserStore;
  sessions: DhSessions;
  jwt: JwtCodec;
  store: ChatStore;
  publish: (job: DeliveryJob) => Promise<void>;
  /** Is each dependency reachable, for /healthz. */
  health: () => Promise<Record<string, boolean>>;
  /** The process's registry and the send books, served on GET /metrics. */
  metrics: ChatMetrics;
}

/** Hands an upgrade request to the websocket service byte for byte, then splices the two sockets. */
function passUpgrade(
  target: { host: string; port: number },
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
) {
  const upstream = net.connect(target.port, target.host);
  let connected = false;
  upstream.setNoDelay(true);
  if (socket instanceof net.Socket) socket.setNoDelay(true);
  upstream.once("connect", () => {
    connected = true;
    let request = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
      request += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    upstream.write(`${request}\r\n`);
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream).pipe(socket);
  });
  upstream.on("error", () => {
    if (!connected && socket.writable) socket.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });
  socket.on("error", () => upstream.destroy());
  socket.on("close", () => upstream.destroy());
  upstream.on("close", () => socket.destroy());
}

/** How far a send got: a failure after the store left a stored message that nobody will be sent. */
interface SendStep {
  at: "checks" | "store" | "publish";
}

function failureReason(err: unknown, at: SendStep["at"]): string {
  // The caller's mistakes by the code it was answered (bad_request, unauthorized, not_member, not_found).
  if (err instanceof HttpError) return err.code;
  if (at === "store") return "store_failed";
  if (at === "publish") return "publish_failed";
  return "internal"; // a lookup (group members, account) failed before anything was stored
}

export function buildChatService(parts: ChatParts): FastifyInstance {
  const { config, users, sessions, jwt, store, publish, metrics } = parts;
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

  app.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/ws") {
      socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n");
      return;
    }
    passUpgrade(config.websocket, req, socket, head);
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof HttpError)
      return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500)
      return reply.status(status).send({ error: { code: "bad_request", message: (err as Error).message } });
    // The cause stays in the service's log: a database's or broker's message is not the caller's business.
    process.stderr.write(`legacy-chat: ${req.method} ${req.url.split("?")[0]}: ${(err as Error).message}\n`);
    return reply.status(500).send({ error: { code: "internal", message: "internal error" } });
  });

  async function authenticate(req: FastifyRequest): Promise<SessionClaims> {
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(req.headers.authorization ?? "");
    if (!match?.[1]) throw new HttpError(401, "unauthorized", "missing bearer token");
    try {
      return await jwt.verify(match[1]);
    } catch (err) {
      throw new HttpError(401, "unauthorized", `invalid token: ${(err as Error).message}`);
    }
  }

  app.get("/healthz", async (_req, reply) => {
    const deps = await parts.health();
    const ok = Object.values(deps).every(Boolean);
    return reply.status(ok ? 200 : 503).send({ ok, ...deps });
  });

  app.get("/metrics", async (_req, reply) =>
    reply.header("content-type", metrics.register.contentType).send(await metrics.register.metrics()),
  );

  // ---- the login the reference gateway also speaks: DH handshake, sealed credentials, HS256 JWT
  const openSealed = addHandshakeAndRegistration(app, sessions, users);

  app.post("/api/auth/login", async (req) => {
    const body = parse(loginSchema, req.body);
    const { userID, password } = await openSealed(credentialsSchema, body);
    const account = await users.verify(userID, password);
    if (!account) throw new HttpError(401, "unauthorized", "wrong user or password");
    if (account.banned) throw new HttpError(403, "banned", `${userID} is banned`);
    const { jwt: token, expiresAt } = await jwt.sign({
      userID,
      platformID: body.platformID,
      role: account.role,
    });
    return {
      jwt: token,
      wsURL: config.wsURL,
      userID,
      platformID: body.platformID,
      role: account.role,
      expiresAt,
    };
  });

  // ---- groups: the caller owns what it creates; every member must have an account
  app.post("/api/groups", async (req, reply) => {
    const claims = await authenticate(req);
    const body = parse(createGroupBodySchema, req.body ?? {});
    const members = [...new Set(body.memberUserIDs)].filter((m) => m !== claims.userID);
    const accounts = await Promise.all(members.map((m) => users.get(m)));
    const unknown = members.filter((_, i) => !accounts[i]);
    if (unknown.length > 0)
      throw new HttpError(404, "not_found", `no account for ${unknown.slice(0, 5).join(", ")}`);
    const groupID = randomBytes(8).toString("hex");
    const memberCount = await store.createGroup(groupID, claims.userID, body.groupName, members);
    return reply.status(201).send({ groupID, conversationID: groupConversationID(groupID), memberCount });
  });

  // ---- send: store under the conversation's next seq, publish for delivery, then answer
  app.post("/api/messages", async (req): Promise<SendAckBody> => {
    const step: SendStep = { at: "checks" };
    try {
      return await send(req, step);
    } catch (err) {
      metrics.sendFailures.inc({ reason: failureReason(err, step.at) });
      throw err;
    }
  });

  async function send(req: FastifyRequest, step: SendStep): Promise<SendAckBody> {
    const claims = await authenticate(req);
    const body = parse(sendBodySchema, req.body);
    const sendID = claims.userID;
    let conversationID: string;
    let recipients: string[];
    if (body.groupID) {
      const members = await store.groupMembers(body.groupID);
      if (!members) throw new HttpError(404, "not_found", `no group ${body.groupID}`);
      if (!members.includes(sendID))
        throw new HttpError(403, "not_member", `${sendID} is not in group ${body.groupID}`);
      conversationID = groupConversationID(body.groupID);
      recipients = members;
    } else {
      const recvID = body.recvID as string;
      if (recvID !== sendID && !(await users.get(recvID)))
        throw new HttpError(404, "not_found", `no account ${recvID}`);
      conversationID = singleConversationID(sendID, recvID);
      // The sender's own connections get the message too, as OpenIM does for multi-device sync.
      recipients = recvID === sendID ? [sendID] : [recvID, sendID];
    }
    const clientMsgID = body.clientMsgID ?? newClientMsgID();
    const serverMsgID = randomBytes(16).toString("hex");
    const sendTime = Date.now();
    step.at = "store";
    const seq = await store.storeMessage({
      conversationID,
      kind: body.groupID ? "group" : "single",
      groupID: body.groupID,
      serverMsgID,
      clientMsgID,
      sendID,
      recvID: body.recvID,
      text: body.text,
      sendTime,
    });
    // One statement outside any transaction: once it returns, the row is committed.
    metrics.stored.inc();
    step.at = "publish";
    const frame: MessageFrame = {
      type: "message",
      conversationID,
      seq,
      serverMsgID,
      clientMsgID,
      sendID,
      ...(body.groupID ? { groupID: body.groupID } : { recvID: body.recvID }),
      text: body.text,
      sendTime,
    };
    await publish({ recipients, frame: JSON.stringify(frame) });
    // publish resolves on RabbitMQ's confirm: the job is the broker's now, persistent on a durable queue.
    metrics.published.inc();
    return { conversationID, seq, serverMsgID, clientMsgID, sendTime };
  }

  return app;
}
