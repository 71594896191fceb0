import { readFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { closed, nextPush } from "../conformance/support/fixtures.js";
import { GatewayError } from "../src/drivers/gateway-client.js";
import { openimDriver } from "../src/drivers/openim-driver.js";
import { decodeText, newOperationID, OpenImError, OpenImWsClient } from "../src/protocol/index.js";

// The reference gateway in the local stack, reached as apps reach it: nginx /api/ → gateway.
const endpoints = inject("endpoints");
const driver = openimDriver(endpoints);
const gateway = driver.gateway;
const redis = new Redis(endpoints.redis, { maxRetriesPerRequest: 1 });
let adminJwt: string;

beforeAll(async () => {
  const admin = endpoints.gatewayAdmin!;
  adminJwt = (await gateway.login(admin.userID, admin.password, 3)).jwt;
});
afterAll(async () => {
  redis.disconnect();
  await driver.close();
});

async function newLogin(platformID = 3) {
  const [user] = await driver.createUsers(1, "gw");
  return { user: user!, login: await gateway.login(user!.userID, user!.password, platformID) };
}

const connect = (userID: string, token: string, platformID = 3) =>
  OpenImWsClient.connect({
    wsUrl: endpoints.wsURL,
    userID,
    token,
    platformID,
    heartbeat: false,
    reconnect: false,
  });

const traffic = async () =>
  (await gateway.admin(adminJwt, "GET", "traffic")) as {
    proxied: number;
    upgradeAttempts: number;
    msgGatewayRequests: number;
  };

describe("login through the gateway", () => {
  test("login answers {jwt, imToken, wsURL} and OpenIM accepts the imToken on that wsURL", async () => {
    const { user, login } = await newLogin();
    expect(login).toMatchObject({ userID: user.userID, platformID: 3, role: "user", wsURL: endpoints.wsURL });
    expect(login.expiresAt).toBeGreaterThan(Date.now() / 1000);
    const ws = await connect(user.userID, login.imToken);
    await ws.close();
  });

  test("the imToken sits in Redis under imtoken:<userID>:<platformID> with the token's lifetime as TTL", async () => {
    const { user, login } = await newLogin(5);
    const key = `imtoken:${user.userID}:5`;
    expect(JSON.parse((await redis.get(key))!)).toMatchObject({ token: login.imToken });
    // OpenIM's tokenPolicy.expire default: 90 days.
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(90 * 86_400 - 60);
    expect(ttl).toBeLessThanOrEqual(90 * 86_400);
  });

  test("concurrent and repeated logins of one user share one imToken, so no login kicks another", async () => {
    const { user, login } = await newLogin();
    const ws = await connect(user.userID, login.imToken);
    const kicked = closed(ws, 2500).then(
      () => true,
      () => false,
    );
    await new Promise((r) => setTimeout(r, 1100)); // a new mint would now produce a different token
    const again = await Promise.all(
      Array.from({ length: 6 }, () => gateway.login(user.userID, user.password, 3)),
    );
    for (const l of again) expect(l.imToken).toBe(login.imToken);
    expect(await kicked).toBe(false);
    await ws.close();
  });

  test("wrong password, unknown user and a replayed handshake are refused with 401", async () => {
    const [user] = await driver.createUsers(1, "gw");
    await expect(gateway.login(user!.userID, "wrong-password", 3)).rejects.toMatchObject({ status: 401 });
    await expect(gateway.login("gw_nobody_here", "whatever-pw", 3)).rejects.toMatchObject({ status: 401 });
    const replay = await gateway.request("POST", "/api/auth/login", {
      sessionID: "never-issued",
      nonce: "AAAAAAAAAAAAAAAA",
      sealed: "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      platformID: 3,
    });
    expect(replay.status).toBe(401);
  });

  test("logout removes the cached imToken and OpenIM no longer accepts it", async () => {
    const { user, login } = await newLogin();
    await gateway.logout(login.jwt);
    expect(await redis.exists(`imtoken:${user.userID}:3`)).toBe(0);
    await expect(connect(user.userID, login.imToken)).rejects.toMatchObject({ errCode: 1506 });
  });
});

describe("JWTs the gateway must refuse", () => {
  const secret = () =>
    (
      JSON.parse(readFileSync(path.join(inject("runDir"), "config", "gateway.json"), "utf8")) as {
        jwt: { secret: string };
      }
    ).jwt.secret;
  const claims = (userID: string) => ({
    plat: 3,
    role: "user",
    sub: userID,
    iss: "cutover-gateway",
    aud: "cutover",
  });
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

  test("forged, expired, alg:none and other-algorithm JWTs get 401 and never reach OpenIM", async () => {
    const { user, login } = await newLogin();
    const key = new TextEncoder().encode(secret());
    const now = Math.floor(Date.now() / 1000);
    const [h, p] = login.jwt.split(".");
    const forged = `${h}.${p}.${"A".repeat(43)}`;
    const expired = await new SignJWT(claims(user.userID))
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(key);
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims(user.userID), exp: now + 3600 })}.`;
    const hs512 = await new SignJWT(claims(user.userID))
      .setProtectedHeader({ alg: "HS512" })
      .setExpirationTime(now + 3600)
      .sign(key);
    const before = await traffic();
    for (const jwt of [forged, expired, none, hs512, "not-a-jwt"]) {
      const res = await gateway.im(jwt, "user/get_users_info", { userIDs: [user.userID] });
      expect(res.status, jwt.slice(0, 30)).toBe(401);
      expect(res.body).toMatchObject({ error: { code: "unauthorized" } });
    }
    const none401 = await gateway.request("POST", "/api/im/user/get_users_info", { userIDs: [] });
    expect(none401.status).toBe(401);
    expect((await traffic()).proxied).toBe(before.proxied);
  });
});

describe("the REST proxy", () => {
  test("resolves the caller's own imToken: A cannot act as B, and OpenIM's envelope passes through unchanged", async () => {
    const a = await newLogin();
    const b = await newLogin();
    const operationID = newOperationID();
    const asB = await gateway.im(
      a.login.jwt,
      "user/update_user_info_ex",
      { userInfo: { userID: b.user.userID, nickname: "hijacked" } },
      operationID,
    );
    expect(asB.status).toBe(200);
    // errMsg from an RPC is OpenIM's whole error chain (observed on v3.8.3), passed on as it came.
    expect(asB.body).toMatchObject({ errCode: 1002, errMsg: expect.stringContaining("NoPermissionError") });
    expect(asB.headers.operationid).toBe(operationID);

    const asSelf = await gateway.im(a.login.jwt, "user/update_user_info_ex", {
      userInfo: { userID: a.user.userID, nickname: "renamed" },
    });
    expect(asSelf.body).toEqual({ errCode: 0, errMsg: "", errDlt: "" });
    const info = await gateway.im(b.login.jwt, "user/get_users_info", {
      userIDs: [a.user.userID, b.user.userID],
    });
    const names = Object.fromEntries(
      (
        (info.body as { data: { usersInfo: Array<{ userID: string; nickname: string }> } }).data.usersInfo ??
        []
      ).map((u) => [u.userID, u.nickname]),
    );
    expect(names[a.user.userID]).toBe("renamed");
    expect(names[b.user.userID]).not.toBe("hijacked");
  });

  test("an admin-only OpenIM route called with a user's JWT is refused by OpenIM itself (1002)", async () => {
    const a = await newLogin();
    const res = await gateway.im(a.login.jwt, "auth/get_user_token", {
      userID: a.user.userID,
      platformID: 5,
    });
    expect(res.body).toMatchObject({ errCode: 1002 });
  });
});

describe("admin routes", () => {
  test("a user's JWT cannot call admin routes (403)", async () => {
    const a = await newLogin();
    await expect(
      gateway.admin(a.login.jwt, "POST", `users/${a.user.userID}/force-logout`, {}),
    ).rejects.toMatchObject({ status: 403 });
  });

  test("force logout drops the live WebSocket and the cached token", async () => {
    const { user, login } = await newLogin();
    const ws = await connect(user.userID, login.imToken);
    const dropped = closed(ws);
    await gateway.admin(adminJwt, "POST", `users/${user.userID}/force-logout`, {});
    expect((await dropped).wasKicked).toBe(true);
    expect(await redis.exists(`imtoken:${user.userID}:3`)).toBe(0);
    await expect(connect(user.userID, login.imToken)).rejects.toMatchObject({ errCode: 1506 });
  });

  test("a system message from the admin route reaches the user", async () => {
    const { user, login } = await newLogin();
    const ws = await connect(user.userID, login.imToken);
    const arrival = nextPush(ws, (m) => decodeText(m) === "maintenance at noon");
    const answer = (await gateway.admin(adminJwt, "POST", "system-message", {
      recvID: user.userID,
      text: "maintenance at noon",
    })) as { errCode: number };
    expect(answer.errCode).toBe(0);
    expect((await arrival).sendID).toBe(endpoints.adminUserID);
    await ws.close();
  });

  test("a banned user can no longer log in, and their live session is dropped", async () => {
    const { user, login } = await newLogin();
    const ws = await connect(user.userID, login.imToken);
    const dropped = closed(ws);
    await gateway.admin(adminJwt, "POST", `users/${user.userID}/ban`, {});
    await dropped;
    await expect(gateway.login(user.userID, user.password, 3)).rejects.toMatchObject({
      status: 403,
      code: "banned",
    });
    await gateway.admin(adminJwt, "POST", `users/${user.userID}/unban`, {});
    await expect(gateway.login(user.userID, user.password, 3)).resolves.toMatchObject({
      userID: user.userID,
    });
  });
});

describe("moderation webhooks", () => {
  test("a message with a banned word is refused at send time with the hook's errCode and never delivered", async () => {
    const word = `forbidden${Date.now().toString(36)}`;
    await gateway.admin(adminJwt, "POST", "moderation/banned-words", { add: [word] });
    const a = await newLogin();
    const b = await newLogin();
    const wa = await connect(a.user.userID, a.login.imToken);
    const wb = await connect(b.user.userID, b.login.imToken);
    const got: string[] = [];
    wb.on("push", (msgs) => got.push(...msgs.map((m) => decodeText(m) ?? "")));

    const refused = await wa
      .sendText({ recvID: b.user.userID, text: `this has ${word.toUpperCase()} in it` })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenImError);
    expect((refused as OpenImError).errCode).toBe(20001);

    const clean = nextPush(wb, (m) => decodeText(m) === "a clean message");
    const ack = await wa.sendText({ recvID: b.user.userID, text: "a clean message" });
    await clean;
    expect(got.some((t) => t.includes(word))).toBe(false);

    // The after-send hook is asynchronous; it records the delivered message shortly after.
    let recorded: Array<{ decision: string }> = [];
    for (let i = 0; i < 50 && !recorded.some((e) => e.decision === "recorded"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      recorded = (
        (await gateway.admin(adminJwt, "GET", `moderation?clientMsgID=${ack.clientMsgID}`)) as {
          events: typeof recorded;
        }
      ).events;
    }
    expect(recorded.map((e) => e.decision).sort()).toEqual(["allow", "recorded"]);
    await Promise.all([wa.close(), wb.close()]);
  });
});

describe("the WebSocket path", () => {
  test("goes from nginx straight to OpenIM: the gateway never sees the upgrade", async () => {
    const before = await traffic();
    const { user, login } = await newLogin();
    const ws = await connect(user.userID, login.imToken);
    await ws.getNewestSeq();
    await ws.close();
    const after = await traffic();
    expect(after.upgradeAttempts).toBe(before.upgradeAttempts);
    expect(after.msgGatewayRequests).toBe(before.msgGatewayRequests);
    expect(before.upgradeAttempts).toBe(0);
  });
});

test("GatewayError names route, status and code", () => {
  expect(new GatewayError(401, "unauthorized", "x", "/api/auth/login").message).toBe(
    "/api/auth/login: HTTP 401 unauthorized: x",
  );
});
