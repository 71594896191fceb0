import { readFileSync } from "node:fs";
import path from "node:path";
import { SignJWT } from "jose";
import { describe, expect, test } from "vitest";
import { getUserToken, OpenImError, parseToken } from "../src/protocol/index.js";
import { asTestUser, closed, sleep } from "./support/fixtures.js";
import { skipUnless } from "./support/skip.js";
import { useStack } from "./support/stack.js";

// Suite `auth`: login → imToken → WebSocket, the imToken cache, and the tokens that must be refused.
const stack = useStack();

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

describe("login through the gateway", () => {
  test("login answers a JWT, an imToken, the WebSocket URL and the expiry", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/auth/login",
        "gateway:reference/gateway/src/jwt.ts jwtCodec",
      ],
    },
  }, async () => {
    const u = await stack.gatewayUser();
    expect(u.login).toMatchObject({
      userID: u.userID,
      platformID: 3,
      role: "user",
      wsURL: stack.endpoints.wsURL,
    });
    expect(u.login.jwt.split(".")).toHaveLength(3);
    expect(u.login.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  test("OpenIM accepts the imToken from login on the returned wsURL", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/auth/login",
        "server:internal/msggateway/ws_server.go wsHandler",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    const u = await stack.gatewayUser();
    const ws = await stack.connect(asTestUser(u));
    expect(ws.isOpen).toBe(true);
  });

  test("the imToken names the user and platform that logged in (auth/parse_token)", {
    meta: { source: ["server:internal/rpc/auth/auth.go ParseToken", "docs/openim-protocol.md §3"] },
  }, async () => {
    // docs/openim-protocol.md §3 auth/parse_token — expireTimeSeconds is an absolute Unix time
    const u = await stack.gatewayUser(5);
    const parsed = await parseToken(stack.rest, u.login.imToken);
    expect(parsed).toMatchObject({ userID: u.userID, platformID: 5 });
    expect(parsed.expireTimeSeconds * 1000).toBeGreaterThan(Date.now() + 86_400_000);
  });

  test("the imToken is cached in Redis as imtoken:<userID>:<platformID>", {
    meta: { source: ["gateway:reference/gateway/src/imtoken-cache.ts imTokenKey"] },
  }, async (ctx) => {
    stack.requires(ctx, "redisAccess");
    const u = await stack.gatewayUser(4);
    const cached = JSON.parse((await stack.redis.get(`imtoken:${u.userID}:4`)) ?? "{}") as { token?: string };
    expect(cached.token).toBe(u.login.imToken);
  });

  test("the cache entry's TTL is the token's lifetime (90 days by default)", {
    meta: {
      source: [
        "gateway:reference/gateway/src/imtoken-cache.ts imTokenCache",
        "server:config/openim-rpc-auth.yml tokenPolicy",
        "docs/openim-protocol.md §7",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "redisAccess");
    // server: config/openim-rpc-auth.yml tokenPolicy.expire = 90 (days)
    const u = await stack.gatewayUser(2);
    const ttl = await stack.redis.ttl(`imtoken:${u.userID}:2`);
    expect(ttl).toBeGreaterThan(90 * 86_400 - 120);
    expect(ttl).toBeLessThanOrEqual(90 * 86_400);
  });

  test("a second login reuses the cached imToken instead of minting one that would kick the first", {
    meta: {
      source: [
        "gateway:reference/gateway/src/imtoken-cache.ts imTokenCache",
        "server:pkg/common/storage/controller/auth.go CreateToken",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    const u = await stack.gatewayUser();
    await sleep(1100); // OpenIM tokens minted in another second differ, so a fresh mint would show
    const again = await stack.gateway.login(u.userID, u.password, 3);
    expect(again.imToken).toBe(u.login.imToken);
  });

  test("concurrent logins of one user all get the same imToken and the live session is not kicked", {
    meta: {
      source: [
        "gateway:reference/gateway/src/imtoken-cache.ts mintUnderLock",
        "server:internal/msggateway/ws_server.go multiTerminalLoginChecker",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    const u = await stack.gatewayUser();
    const ws = await stack.connect(asTestUser(u));
    const kicked = closed(ws, 3000).then(
      () => true,
      () => false,
    );
    await sleep(1100);
    const logins = await Promise.all(
      Array.from({ length: 8 }, () => stack.gateway.login(u.userID, u.password, 3)),
    );
    expect(new Set(logins.map((l) => l.imToken))).toEqual(new Set([u.login.imToken]));
    expect(await kicked).toBe(false);
  });

  test("logins on two platforms get two tokens and both sessions stay online", {
    meta: {
      source: [
        "gateway:reference/gateway/src/imtoken-cache.ts imTokenKey",
        "server:internal/msggateway/ws_server.go multiTerminalLoginChecker",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    const u = await stack.gatewayUser(3);
    const mobile = await stack.gateway.login(u.userID, u.password, 2);
    expect(mobile.imToken).not.toBe(u.login.imToken);
    const pc = await stack.connect(asTestUser(u));
    const phone = await stack.connect({ userID: u.userID, token: mobile.imToken, platformID: 2 });
    await sleep(300);
    expect(pc.isOpen && phone.isOpen).toBe(true);
  });

  test("a wrong password is refused with 401", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/auth/login",
        "gateway:reference/gateway/src/user-store.ts userStore",
      ],
    },
  }, async () => {
    const u = await stack.gatewayUser();
    await expect(stack.gateway.login(u.userID, `${u.password}x`, 3)).rejects.toMatchObject({ status: 401 });
  });

  test("an unknown user is refused with 401, the same answer as a wrong password", {
    meta: { source: ["gateway:reference/gateway/src/server.ts POST /api/auth/login"] },
  }, async () => {
    await expect(stack.gateway.login("nobody_by_this_name", "some-password", 3)).rejects.toMatchObject({
      status: 401,
      code: "unauthorized",
    });
  });

  test("a login with a handshake that was never issued is refused with 401", {
    meta: {
      source: [
        "gateway:reference/gateway/src/login-routes.ts addHandshakeAndRegistration",
        "gateway:reference/gateway/src/dh-sessions.ts take",
      ],
    },
  }, async () => {
    const res = await stack.gateway.request("POST", "/api/auth/login", {
      sessionID: "never-issued",
      nonce: "AAAAAAAAAAAAAAAA",
      sealed: "A".repeat(40),
      platformID: 3,
    });
    expect(res.status).toBe(401);
  });

  test("registering a taken user ID is refused with 409", {
    meta: { source: ["gateway:reference/gateway/src/login-routes.ts POST /api/auth/register"] },
  }, async () => {
    const u = await stack.gatewayUser();
    await expect(stack.gateway.register(u.userID, "another-password")).rejects.toMatchObject({
      status: 409,
    });
  });

  test("logout removes the cached imToken and OpenIM refuses it afterwards (1506)", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/auth/logout",
        "gateway:reference/gateway/src/openim-bridge.ts logoutEverywhere",
        "server:internal/rpc/auth/auth.go ForceLogout",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    const u = await stack.gatewayUser();
    await stack.gateway.logout(u.login.jwt);
    if (stack.offers("redisAccess")) expect(await stack.redis.exists(`imtoken:${u.userID}:3`)).toBe(0);
    await expect(stack.connect(asTestUser(u))).rejects.toMatchObject({ errCode: 1506 });
  });

  test("a login after logout mints a new imToken that OpenIM accepts", {
    meta: {
      source: [
        "gateway:reference/gateway/src/imtoken-cache.ts imTokenCache",
        "server:pkg/common/storage/controller/auth.go CreateToken",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    const u = await stack.gatewayUser();
    await stack.gateway.logout(u.login.jwt);
    await sleep(1100);
    const again = await stack.gateway.login(u.userID, u.password, 3);
    expect(again.imToken).not.toBe(u.login.imToken);
    await expect(
      stack.connect({ userID: u.userID, token: again.imToken, platformID: 3 }),
    ).resolves.toBeDefined();
  });
});

describe("tokens that must be refused", () => {
  const claims = (userID: string) => ({
    plat: 3,
    role: "user",
    sub: userID,
    iss: "cutover-gateway",
    aud: "cutover",
  });
  const gatewaySecret = () =>
    new TextEncoder().encode(
      (
        JSON.parse(readFileSync(path.join(stack.runDir, "config", "gateway.json"), "utf8")) as {
          jwt: { secret: string };
        }
      ).jwt.secret,
    );

  test("a gateway JWT with a forged signature gets 401", {
    meta: {
      source: [
        "gateway:reference/gateway/src/jwt.ts verify",
        "gateway:reference/gateway/src/server.ts authenticate",
      ],
    },
  }, async () => {
    const u = await stack.gatewayUser();
    const [h, p] = u.login.jwt.split(".");
    const res = await stack.gateway.im(`${h}.${p}.${"A".repeat(43)}`, "user/get_users_info", {
      userIDs: [u.userID],
    });
    expect(res.status).toBe(401);
  });

  test("a gateway JWT with alg:none gets 401", {
    meta: {
      source: [
        "gateway:reference/gateway/src/jwt.ts verify",
        "gateway:reference/gateway/src/server.ts authenticate",
      ],
    },
  }, async () => {
    const u = await stack.gatewayUser();
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims(u.userID), exp: Math.floor(Date.now() / 1000) + 3600 })}.`;
    const res = await stack.gateway.im(none, "user/get_users_info", { userIDs: [u.userID] });
    expect(res.status).toBe(401);
  });

  test("an expired gateway JWT, correctly signed, gets 401", {
    meta: {
      source: [
        "gateway:reference/gateway/src/jwt.ts verify",
        "gateway:reference/gateway/src/server.ts authenticate",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "localFiles", "signing a gateway JWT needs the gateway's key from a local run dir");
    const u = await stack.gatewayUser();
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT(claims(u.userID))
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 60)
      .sign(gatewaySecret());
    expect((await stack.gateway.im(expired, "user/get_users_info", { userIDs: [] })).status).toBe(401);
  });

  test("a gateway JWT signed with another algorithm (HS512) gets 401", {
    meta: {
      source: [
        "gateway:reference/gateway/src/jwt.ts verify",
        "gateway:reference/gateway/src/server.ts authenticate",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "localFiles", "signing a gateway JWT needs the gateway's key from a local run dir");
    const u = await stack.gatewayUser();
    const hs512 = await new SignJWT(claims(u.userID))
      .setProtectedHeader({ alg: "HS512" })
      .setExpirationTime(Math.floor(Date.now() / 1000) + 600)
      .sign(gatewaySecret());
    expect((await stack.gateway.im(hs512, "user/get_users_info", { userIDs: [] })).status).toBe(401);
  });

  test("an imToken with a forged signature is refused at the WebSocket (1505) and on REST", {
    meta: {
      source: [
        "tools:tokenverify/jwt_token.go mapValidationError",
        "server:internal/msggateway/ws_server.go wsHandler",
        "server:internal/api/router.go GinParseToken",
        "docs/openim-protocol.md §4",
      ],
    },
  }, async () => {
    // tools: tokenverify/jwt_token.go — a bad signature maps to TokenUnknownError
    const u = await stack.user();
    const [h, p] = u.token.split(".");
    const forged = { ...u, token: `${h}.${p}.${"B".repeat(43)}` };
    await expect(stack.connect(forged)).rejects.toMatchObject({ errCode: 1505 });
    const rest = await stack.rest
      .call("user/get_users_info", { userIDs: [u.userID] }, { token: forged.token })
      .catch((e: unknown) => e);
    expect((rest as OpenImError).errCode).toBe(1505);
  });

  test("a malformed imToken is refused at the WebSocket (1503)", {
    meta: {
      source: [
        "tools:tokenverify/jwt_token.go mapValidationError",
        "server:internal/msggateway/ws_server.go wsHandler",
        "docs/openim-protocol.md §4",
      ],
    },
  }, async () => {
    const u = await stack.user();
    await expect(stack.connect({ ...u, token: "not.a-token" })).rejects.toMatchObject({ errCode: 1503 });
  });

  test("another user's imToken is refused at the WebSocket (1502: sendID must match)", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go validateRespWithRequest",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    const [a, b] = await stack.newUsers(2);
    await expect(stack.connect({ ...a, token: b.token })).rejects.toMatchObject({ errCode: 1502 });
  });

  test("an imToken used with another platformID is refused (1502)", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go validateRespWithRequest",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    const a = await stack.user(3);
    await expect(stack.connect({ ...a, platformID: 4 })).rejects.toMatchObject({ errCode: 1502 });
  });

  test("a token replaced by a newer one for the same platform is refused as kicked (1506)", {
    meta: {
      source: [
        "server:pkg/common/storage/controller/auth.go CreateToken",
        "server:internal/rpc/auth/auth.go parseToken",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async (ctx) => {
    // server: pkg/common/storage/controller/auth.go CreateToken — multiLogin policy 1
    skipUnless(
      ctx,
      stack.profile.multiLoginPolicy === 1,
      `the target's multiLogin.policy is ${stack.profile.multiLoginPolicy}, not 1`,
    );
    const u = await stack.user();
    await sleep(1100);
    await getUserToken(stack.rest, stack.adminToken, u.userID, 3);
    await expect(stack.connect(u)).rejects.toMatchObject({ errCode: 1506 });
  });

  test("a user token cannot call admin-only OpenIM endpoints (1002)", {
    meta: {
      source: [
        "server:internal/rpc/auth/auth.go GetUserToken",
        "server:pkg/authverify/token.go CheckAdmin",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    const u = await stack.user();
    const err = await stack.rest
      .call("auth/get_user_token", { userID: u.userID, platformID: 5 }, { token: u.token })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenImError);
    expect((err as OpenImError).errCode).toBe(1002);
  });

  test("the wrong admin secret is refused (1002)", {
    meta: { source: ["server:internal/rpc/auth/auth.go GetAdminToken", "docs/openim-protocol.md §3"] },
  }, async () => {
    const err = await stack.rest
      .call("auth/get_admin_token", { secret: "not-the-secret", userID: stack.endpoints.adminUserID })
      .catch((e: unknown) => e);
    expect((err as OpenImError).errCode).toBe(1002);
  });
});
