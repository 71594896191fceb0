import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import { Pool } from "undici";
import { z } from "zod";
import { newOperationID, OpenImError, type RestClient } from "../../../src/protocol/index.js";
import type { AdminTokenSource } from "./admin-token.js";
import type { GatewayConfig } from "./config.js";
import type { DhSessions } from "./dh-sessions.js";
import type { GatewayMetrics } from "./gateway-metrics.js";
import { credentialsSchema, HttpError, loginSchema, parse, userIDSchema } from "./http-input.js";
import type { JwtCodec, SessionClaims } from "./jwt.js";
import { addHandshakeAndRegistration } from "./login-routes.js";
import type { Moderation } from "./moderation.js";
import type { OpenImBridge } from "./openim-bridge.js";
import type { UserStore } from "./user-store.js";

export interface GatewayParts {
  config: GatewayConfig;
  redis: Redis;
  rest: RestClient;
  admin: AdminTokenSource;
  bridge: OpenImBridge;
  users: UserStore;
  sessions: DhSessions;
  jwt: JwtCodec;
  moderation: Moderation;
  /** The process's registry and the gateway's books, served on GET /metrics. */
  metrics: GatewayMetrics;
}

/** What reached the gateway, so a suite can prove the WebSocket path never does. */
export interface TrafficCounters {
  requests: number;
  upgradeAttempts: number;
  msgGatewayRequests: number;
  proxied: number;
}

/** OpenIM's envelope, for admin routes: the caller sees OpenIM's own errCode when OpenIM refuses. */
async function envelope(
  work: () => Promise<unknown>,
): Promise<{ errCode: number; errMsg: string; errDlt: string; data?: unknown }> {
  try {
    const data = await work();
    return { errCode: 0, errMsg: "", errDlt: "", ...(data === undefined ? {} : { data }) };
  } catch (err) {
    if (err instanceof OpenImError)
      return { errCode: err.errCode, errMsg: err.errMsg, errDlt: err.errDlt ?? "" };
    throw err;
  }
}

/** The HTTP status the error handler answers a thrown error with. */
function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  const status = (err as { statusCode?: number }).statusCode;
  return status && status >= 400 && status < 500 ? status : 502;
}

/** OpenIM's errCode in an answer body, when it is OpenIM's JSON envelope. */
function errCodeOf(raw: Buffer): number | undefined {
  try {
    const code = (JSON.parse(raw.toString("utf8")) as { errCode?: unknown }).errCode;
    return typeof code === "number" ? code : undefined;
  } catch {
    return undefined;
  }
}

export function buildGateway(parts: GatewayParts): { app: FastifyInstance; traffic: TrafficCounters } {
  const { config, bridge, users, sessions, jwt, moderation, admin, rest, metrics } = parts;
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  const traffic: TrafficCounters = { requests: 0, upgradeAttempts: 0, msgGatewayRequests: 0, proxied: 0 };
  const openimPool = new Pool(new URL(config.openimApi).origin, { connections: 128 });
  app.addHook("onClose", async () => openimPool.close());

  // The WebSocket path belongs to OpenIM; if an upgrade ever reaches the gateway, count and refuse it.
  app.server.on("upgrade", (_req, socket) => {
    traffic.upgradeAttempts += 1;
    socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
  });
  app.addHook("onRequest", async (req) => {
    traffic.requests += 1;
    if (req.url.includes("msg_gateway")) traffic.msgGatewayRequests += 1;
  });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof HttpError)
      return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    const status = statusOf(err);
    const code = status === 502 ? "upstream" : "bad_request";
    return reply.status(status).send({ error: { code, message: (err as Error).message } });
  });

  // JWTs are stateless; logout revokes every token of that user+platform issued up to that instant.
  const revokedBeforeKey = (userID: string, platformID: number) =>
    `gw:jwt-revoked-before:${userID}:${platformID}`;

  async function authenticate(req: FastifyRequest): Promise<SessionClaims> {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(header);
    if (!match?.[1]) throw new HttpError(401, "unauthorized", "missing bearer token");
    let claims: SessionClaims;
    try {
      claims = await jwt.verify(match[1]);
    } catch (err) {
      throw new HttpError(401, "unauthorized", `invalid token: ${(err as Error).message}`);
    }
    const revokedBefore = Number(
      (await parts.redis.get(revokedBeforeKey(claims.userID, claims.platformID))) ?? 0,
    );
    if (revokedBefore > 0 && claims.issuedAtMs <= revokedBefore)
      throw new HttpError(401, "unauthorized", "token revoked by logout");
    if (await users.isBanned(claims.userID)) throw new HttpError(403, "banned", `${claims.userID} is banned`);
    return claims;
  }

  async function requireAdmin(req: FastifyRequest): Promise<SessionClaims> {
    const claims = await authenticate(req);
    if (claims.role !== "admin") throw new HttpError(403, "forbidden", "admin role required");
    return claims;
  }

  app.get("/healthz", async () => ({ ok: true, redis: (await parts.redis.ping()) === "PONG" }));
  app.get("/api/healthz", async () => ({ ok: true }));
  // For the stack's Prometheus; nginx routes only /api/ here, so clients never reach it.
  app.get("/metrics", async (_req, reply) =>
    reply.header("content-type", metrics.register.contentType).send(await metrics.register.metrics()),
  );

  // ---- auth: DH handshake, registration, login, logout
  const openSealed = addHandshakeAndRegistration(app, sessions, users);

  app.post("/api/auth/login", async (req) => {
    try {
      const answer = await login(req);
      // Counted once the caller has its JWT and imToken: a login that failed anywhere before is not ok.
      metrics.logins.inc({ result: "ok" });
      return answer;
    } catch (err) {
      // bad_request, unauthorized (bad handshake or password), banned; anything else is OpenIM or Redis failing.
      metrics.logins.inc({ result: err instanceof HttpError ? err.code : "error" });
      throw err;
    }
  });

  async function login(req: FastifyRequest) {
    const body = parse(loginSchema, req.body);
    const { userID, password } = await openSealed(credentialsSchema, body);
    const account = await users.verify(userID, password);
    if (!account) throw new HttpError(401, "unauthorized", "wrong user or password");
    if (account.banned) throw new HttpError(403, "banned", `${userID} is banned`);
    await bridge.ensureRegistered(userID, account.nickname);
    const im = await bridge.tokens.get(userID, body.platformID);
    const { jwt: token, expiresAt } = await jwt.sign({
      userID,
      platformID: body.platformID,
      role: account.role,
    });
    return {
      jwt: token,
      imToken: im.token,
      imTokenExpiresAt: im.expiresAt,
      wsURL: config.wsURL,
      userID,
      platformID: body.platformID,
      role: account.role,
      expiresAt,
    };
  }

  app.post("/api/auth/logout", async (req) => {
    const claims = await authenticate(req);
    if (!config.faults.keepImTokenAfterLogout) {
      await parts.redis.set(
        revokedBeforeKey(claims.userID, claims.platformID),
        String(Date.now()),
        "EX",
        config.jwt.ttlSeconds,
      );
      await bridge.logoutEverywhere(claims.userID, [claims.platformID]);
    }
    return { ok: true };
  });

  // ---- REST proxy: the caller's JWT becomes their own imToken; OpenIM's answer passes through unchanged
  app.post("/api/im/*", async (req, reply: FastifyReply) => {
    // The route label is OpenIM's route only once OpenIM has answered it as a route it has, so what a
    // caller puts in the path cannot grow the label set; "other" for everything refused or unanswered.
    const counted = { route: "other", status: 502 };
    try {
      return await proxy(req, reply, counted);
    } catch (err) {
      counted.status = statusOf(err);
      throw err;
    } finally {
      metrics.proxyRequests.inc({ route: counted.route, status: String(counted.status) });
    }
  });

  async function proxy(req: FastifyRequest, reply: FastifyReply, counted: { route: string; status: number }) {
    const claims = await authenticate(req);
    const route = (req.params as { "*": string })["*"];
    if (!/^[a-z_]+\/[a-z_]+(\/[a-z_]+)?$/i.test(route))
      throw new HttpError(404, "not_found", `no OpenIM route ${route}`);
    // auth/* is the gateway's own business: OpenIM whitelists get_admin_token, so forwarding it would
    // leave only the admin secret between any logged-in user and an admin token.
    if (/^auth\//i.test(route)) throw new HttpError(403, "forbidden", "auth routes are not proxied");
    const operationID = (req.headers.operationid as string | undefined) ?? newOperationID();
    const body = JSON.stringify(req.body ?? {});
    const forward = async (token: string) =>
      openimPool.request({
        path: `/${route}`,
        method: "POST",
        headers: { "content-type": "application/json", operationID, token },
        body,
      });
    let im = await bridge.tokens.get(claims.userID, claims.platformID);
    let res = await forward(im.token);
    let raw = Buffer.from(await res.body.arrayBuffer());
    // A cached token OpenIM no longer accepts (kicked, expired, lost from its Redis): mint once more and retry.
    let code = errCodeOf(raw);
    if (code === 1501 || code === 1506 || code === 1507) {
      metrics.proxyTokenRetries.inc({ errcode: String(code) });
      await bridge.tokens.invalidate(claims.userID, claims.platformID);
      im = await bridge.tokens.get(claims.userID, claims.platformID);
      res = await forward(im.token);
      raw = Buffer.from(await res.body.arrayBuffer());
      code = errCodeOf(raw);
    }
    traffic.proxied += 1;
    counted.status = res.statusCode;
    // OpenIM checks the token before it looks the route up (internal/api/router.go: GinParseToken is
    // global middleware): a 404 says the route does not exist, a token error (15xx) says nothing of it.
    const tokenRefused = code !== undefined && code >= 1500 && code < 1600;
    if (res.statusCode !== 404 && !tokenRefused) counted.route = route;
    // OpenIM answers its refusals with HTTP 200 and an errCode: the status alone would hide them.
    if (code !== undefined && code !== 0)
      metrics.proxyOpenImErrors.inc({ route: counted.route, errcode: String(code) });
    reply
      .status(res.statusCode)
      .header("content-type", res.headers["content-type"] ?? "application/json")
      .header("operationID", operationID);
    return reply.send(raw);
  }

  // ---- admin routes: admin JWT only, each one a call to OpenIM's admin API
  const groupParams = z.object({ groupID: z.string().min(1) });
  const userParams = z.object({ userID: userIDSchema });
  const call = async (route: string, body: unknown) => rest.call(route, body, { token: await admin.get() });

  app.post("/api/admin/groups", async (req) => {
    await requireAdmin(req);
    const b = parse(
      z.object({
        ownerUserID: userIDSchema,
        memberUserIDs: z.array(userIDSchema).default([]),
        adminUserIDs: z.array(userIDSchema).default([]),
        groupName: z.string().default("group"),
        groupID: z.string().optional(),
      }),
      req.body,
    );
    // Members may not have logged in since the migration; OpenIM must know them before the group does.
    for (const userID of new Set([b.ownerUserID, ...b.memberUserIDs, ...b.adminUserIDs])) {
      const account = await users.get(userID);
      if (account) await bridge.ensureRegistered(userID, account.nickname);
    }
    return envelope(() =>
      call("group/create_group", {
        ownerUserID: b.ownerUserID,
        memberUserIDs: b.memberUserIDs,
        adminUserIDs: b.adminUserIDs,
        groupInfo: { groupID: b.groupID ?? "", groupName: b.groupName, groupType: 2 },
      }),
    );
  });
  app.post("/api/admin/groups/:groupID/dismiss", async (req) => {
    await requireAdmin(req);
    const { groupID } = parse(groupParams, req.params);
    return envelope(() => call("group/dismiss_group", { groupID, deleteMember: false }));
  });
  app.post("/api/admin/groups/:groupID/kick", async (req) => {
    await requireAdmin(req);
    const { groupID } = parse(groupParams, req.params);
    const b = parse(
      z.object({ userIDs: z.array(userIDSchema).min(1), reason: z.string().default("") }),
      req.body,
    );
    return envelope(() => call("group/kick_group", { groupID, kickedUserIDs: b.userIDs, reason: b.reason }));
  });
  app.post("/api/admin/groups/:groupID/mute", async (req) => {
    await requireAdmin(req);
    const { groupID } = parse(groupParams, req.params);
    const b = parse(
      z.object({ userID: userIDSchema.optional(), seconds: z.number().int().positive().default(3600) }),
      req.body ?? {},
    );
    return envelope(() =>
      b.userID
        ? call("group/mute_group_member", { groupID, userID: b.userID, mutedSeconds: b.seconds })
        : call("group/mute_group", { groupID }),
    );
  });
  app.post("/api/admin/groups/:groupID/unmute", async (req) => {
    await requireAdmin(req);
    const { groupID } = parse(groupParams, req.params);
    const b = parse(z.object({ userID: userIDSchema.optional() }), req.body ?? {});
    return envelope(() =>
      b.userID
        ? call("group/cancel_mute_group_member", { groupID, userID: b.userID })
        : call("group/cancel_mute_group", { groupID }),
    );
  });
  app.post("/api/admin/users/:userID/force-logout", async (req) => {
    await requireAdmin(req);
    const { userID } = parse(userParams, req.params);
    const b = parse(z.object({ platformID: z.number().int().min(1).max(9).optional() }), req.body ?? {});
    return envelope(() => bridge.logoutEverywhere(userID, b.platformID ? [b.platformID] : undefined));
  });
  app.post("/api/admin/users/:userID/ban", async (req) => {
    await requireAdmin(req);
    const { userID } = parse(userParams, req.params);
    if (!(await users.setBanned(userID, true))) throw new HttpError(404, "not_found", `no account ${userID}`);
    return envelope(() => bridge.logoutEverywhere(userID));
  });
  app.post("/api/admin/users/:userID/unban", async (req) => {
    await requireAdmin(req);
    const { userID } = parse(userParams, req.params);
    if (!(await users.setBanned(userID, false)))
      throw new HttpError(404, "not_found", `no account ${userID}`);
    return envelope(async () => undefined);
  });
  app.post("/api/admin/system-message", async (req) => {
    await requireAdmin(req);
    const b = parse(
      z
        .object({ recvID: userIDSchema.optional(), groupID: z.string().optional(), text: z.string().min(1) })
        .refine((v) => !!v.recvID !== !!v.groupID, {
          message: "exactly one of recvID or groupID",
        }),
      req.body,
    );
    return envelope(() =>
      call("msg/send_msg", {
        sendID: config.adminUserID,
        recvID: b.recvID ?? "",
        groupID: b.groupID ?? "",
        senderPlatformID: 10,
        senderNickname: "system",
        content: { content: b.text },
        contentType: 101,
        sessionType: b.groupID ? 3 : 1,
        isOnlineOnly: false,
        notOfflinePush: true,
      }),
    );
  });
  app.get("/api/admin/moderation", async (req) => {
    await requireAdmin(req);
    const q = parse(
      z.object({ clientMsgID: z.string().optional(), sendID: z.string().optional() }),
      req.query,
    );
    return { bannedWords: moderation.words(), counts: moderation.counts(), events: moderation.events(q) };
  });
  app.post("/api/admin/moderation/banned-words", async (req) => {
    await requireAdmin(req);
    const b = parse(
      z.object({
        add: z.array(z.string().min(1)).default([]),
        remove: z.array(z.string().min(1)).default([]),
      }),
      req.body,
    );
    moderation.addWords(b.add);
    return { bannedWords: moderation.removeWords(b.remove) };
  });
  app.get("/api/admin/traffic", async (req) => {
    await requireAdmin(req);
    return { ...traffic };
  });

  // ---- OpenIM's webhooks (not routed by nginx: only OpenIM on the inside reaches them)
  app.post("/webhooks/openim/:command", async (req) => {
    const { command } = parse(z.object({ command: z.string().min(1) }), req.params);
    return moderation.handle(command, (req.body ?? {}) as Record<string, never>);
  });

  return { app, traffic };
}
