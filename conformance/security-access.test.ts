import { readFileSync } from "node:fs";
import path from "node:path";
import { PbCoder } from "@openim/protocol";
import { SignJWT } from "jose";
import { request } from "undici";
import { describe, expect, test } from "vitest";
import { deriveSessionKey, newKeyPair, seal } from "../src/protocol/gateway-auth.js";
import { encodeGetMaxSeqReq } from "../src/protocol/hand-coders.js";
import {
  buildTextMsg,
  decodeText,
  forceLogout,
  getUserToken,
  newOperationID,
  parseApiEnvelope,
  type ReceivedMsg,
  ReqIdentifier,
  singleConversationID,
} from "../src/protocol/index.js";
import { asTestUser, closed, eventually, inbox, nextPush } from "./support/fixtures.js";
import { groupInfo, membersInfo, newGroup, refusal, restAs } from "./support/groups.js";
import { skipUnless } from "./support/skip.js";
import { useStack } from "./support/stack.js";

// Suite `security-access`: negative cases about who may do what. Identities cannot be borrowed
// (tokens after logout, another user's sendID or userID, the REST proxy's imToken), an outsider
// cannot act in a group, and the internal APIs stay internal behind nginx and the gateway.
// Where the stack lets something through, the case asserts what it does and says "(finding)".
const stack = useStack();

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const text = (t: string) => (m: ReceivedMsg) => decodeText(m) === t;

/** The gateway's traffic counter: proved unchanged, allowing for other suites' calls in parallel. */
async function neverProxied(work: () => Promise<void>): Promise<boolean> {
  const proxied = async () => (await stack.admin<{ proxied: number }>("GET", "traffic")).proxied;
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await proxied();
    await work();
    if ((await proxied()) === before) return true;
  }
  return false;
}

describe("identities and tokens", () => {
  test("a token replayed after the gateway's logout is refused with 1506 at the WebSocket and on REST", {
    meta: {
      source: [
        "gateway:reference/gateway/src/openim-bridge.ts logoutEverywhere",
        "server:internal/rpc/auth/auth.go forceKickOff",
        "server:internal/rpc/auth/auth.go parseToken",
        "docs/openim-protocol.md §1",
        "docs/openim-protocol.md §4",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 force_logout → KickedToken; §4 1506 — reference/gateway/src/openim-bridge.ts logoutEverywhere
    const u = await stack.gatewayUser();
    await stack.gateway.logout(u.login.jwt);
    await expect(stack.connect(asTestUser(u))).rejects.toMatchObject({ errCode: 1506 });
    await expect(stack.connect(asTestUser(u), { via: "direct" })).rejects.toMatchObject({ errCode: 1506 });
    const rest = await refusal(
      stack.rest.call("user/get_users_info", { userIDs: [u.userID] }, { token: u.login.imToken }),
    );
    expect(rest.errCode).toBe(1506);
  });

  test("after logout the gateway JWT is refused on the REST proxy (401) and no imToken is minted again", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts authenticate",
        "gateway:reference/gateway/src/server.ts POST /api/auth/logout",
      ],
    },
  }, async () => {
    // reference/gateway/src/server.ts authenticate: logout revokes every JWT of that user+platform issued before it
    const u = await stack.gatewayUser();
    await stack.gateway.logout(u.login.jwt);
    const res = await stack.gateway.im(u.login.jwt, "user/get_users_info", { userIDs: [u.userID] });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: "unauthorized" } });
    // A new login still works and its JWT is accepted.
    const again = await stack.gateway.login(u.userID, u.password, 3);
    expect((await stack.gateway.im(again.jwt, "user/get_users_info", { userIDs: [u.userID] })).status).toBe(
      200,
    );
  });

  test("a WebSocket logout (2003) closes the connection but leaves the token valid: it connects again (finding)", {
    meta: {
      source: [
        "server:internal/msggateway/message_handler.go UserLogout",
        "server:internal/msggateway/client.go replyMessage",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 2003 WsLogoutMsg (DelUserPushToken, then close; no token state change)
    const u = await stack.user();
    const ws = await stack.connect(u);
    await ws.logout();
    expect(ws.isOpen).toBe(false);
    const again = await stack.connect(u);
    await expect(again.getNewestSeq()).resolves.toBeDefined();
  });

  test("a kicked token comes back to life when a token for the same user and platform is minted within the same second: it is the identical JWT (finding)", {
    meta: {
      source: [
        "server:pkg/common/storage/controller/auth.go CreateToken",
        "server:internal/rpc/auth/auth.go forceKickOff",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "adminAccess");
    // server: pkg/common/storage/controller/auth.go CreateToken (claims to the second, state reset to valid);
    // docs/openim-protocol.md §1 force_logout marks the token kicked (1506). Seen on this stack: identical token, valid again.
    const u = await stack.user();
    const works = (token: string) =>
      stack.rest.call("user/get_users_info", { userIDs: [u.userID] }, { token }).then(
        () => 0,
        (e: unknown) => (e as { errCode?: number }).errCode ?? -1,
      );
    for (let attempt = 0; attempt < 3; attempt++) {
      // Start just after a second boundary so both mints fall in one second (the clock, not an event).
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
      const first = (await getUserToken(stack.rest, stack.adminToken, u.userID, 7)).token;
      await forceLogout(stack.rest, stack.adminToken, u.userID, 7);
      expect(await works(first)).toBe(1506);
      const second = (await getUserToken(stack.rest, stack.adminToken, u.userID, 7)).token;
      if (second !== first) continue; // crossed into the next second after all; try again
      expect(await works(first)).toBe(0);
      return;
    }
    throw new Error("could not mint twice within one second in 3 attempts");
  });

  test("a user's token presented with another user's sendID is refused at the handshake (1502), through nginx and directly", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go validateRespWithRequest",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 handshake step 4 — server: internal/msggateway/ws_server.go validateRespWithRequest
    const [a, b] = await stack.newUsers(2);
    for (const via of ["nginx", "direct"] as const) {
      await expect(stack.connect({ ...b, token: a.token }, { via })).rejects.toMatchObject({
        errCode: 1502,
      });
    }
  });

  test("an envelope whose sendID is not the connected user closes the connection (1006) and the message goes nowhere", {
    meta: { source: ["server:internal/msggateway/client.go handleMessage", "docs/openim-protocol.md §1"] },
  }, async () => {
    // docs/openim-protocol.md §1 Identity checks ("binaryReq.SendID must equal the connection's userID … connection is closed")
    const [a, b, c] = await stack.newUsers(3);
    const [wa, wc] = await Promise.all([stack.connect(a), stack.connect(c)]);
    const cGot = inbox(wc);
    const dropped = closed(wa);
    const t = `as someone else ${unique()}`;
    await expect(wa.sendText({ recvID: c.userID, text: t }, { sendID: b.userID })).rejects.toMatchObject({
      kind: "closed",
    });
    expect((await dropped).code).toBe(1006);
    const wa2 = await stack.connect(a, { via: "direct" });
    const barrier = `barrier ${unique()}`;
    const seen = nextPush(wc, text(barrier));
    await wa2.sendText({ recvID: c.userID, text: barrier });
    await seen;
    expect(cGot.some(text(t))).toBe(false);
  });

  test("a MsgData whose sendID names another user is accepted and delivered as that user's message (finding: no check)", {
    meta: {
      source: [
        "server:internal/rpc/msg/send.go SendMsg",
        "server:internal/rpc/msg/verify.go messageVerification",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Identity checks ("In the send path … there is no check that msgData.sendID equals the connected user")
    // — server: internal/rpc/msg/send.go, verify.go
    const [mallory, alice, bob] = await stack.newUsers(3);
    const [wm, wa, wb] = await Promise.all([
      stack.connect(mallory),
      stack.connect(alice),
      stack.connect(bob),
    ]);
    const t = `from "alice" ${unique()}`;
    const toBob = nextPush(wb, text(t));
    const toAlice = nextPush(wa, text(t));
    const spoofed = buildTextMsg({
      sendID: alice.userID,
      senderPlatformID: 3,
      recvID: bob.userID,
      text: t,
    });
    const ack = await wm.sendMessage(spoofed);
    expect(ack.clientMsgID).toBe(spoofed.clientMsgID);
    const got = await toBob;
    expect(got).toMatchObject({
      sendID: alice.userID,
      conversationID: singleConversationID(alice.userID, bob.userID),
    });
    // The impersonated user's own devices get it too, as their own sent message.
    expect((await toAlice).sendID).toBe(alice.userID);
  });

  test("a 1002 pull naming another user's userID answers that user's messages (finding: no access check)", {
    meta: { source: ["server:internal/rpc/msg/sync_msg.go PullMessageBySeqs", "docs/openim-protocol.md §2"] },
  }, async () => {
    // docs/openim-protocol.md §2 PullMessageBySeqs ("No opUser access check was found") — server: msg/sync_msg.go PullMessageBySeqs
    const [mallory, alice, bob] = await stack.newUsers(3);
    const [wm, wa, wb] = await Promise.all([
      stack.connect(mallory),
      stack.connect(alice),
      stack.connect(bob),
    ]);
    const secret = `private ${unique()}`;
    const arrival = nextPush(wb, text(secret));
    await wa.sendText({ recvID: bob.userID, text: secret });
    const conv = (await arrival).conversationID;
    const req = PbCoder.PullMessageBySeqsReq.encode({
      userID: alice.userID,
      seqRanges: [{ conversationID: conv, begin: 1, end: 10, num: 10 }],
      order: 0,
    }).finish();
    let texts: Array<string | undefined> = [];
    await eventually(async () => {
      const resp = await wm.request(ReqIdentifier.PullMsgBySeqList, req);
      expect(resp.errCode).toBe(0);
      texts = (PbCoder.PullMessageBySeqsResp.decode(resp.data).msgs[conv]?.Msgs ?? []).map((m) =>
        decodeText(m),
      );
      return texts.length > 0;
    });
    expect(texts).toContain(secret);
  });

  test("a 1001 newest-seq request naming another user's userID is refused with 1002", {
    meta: {
      source: [
        "server:internal/rpc/msg/sync_msg.go GetMaxSeq",
        "server:pkg/authverify/token.go CheckAccessV3",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 GetMaxSeq ("CheckAccessV3: userID must equal opUserID … else 1002") — server: msg/sync_msg.go GetMaxSeq
    const [mallory, alice] = await stack.newUsers(2);
    const wm = await stack.connect(mallory);
    const err = await refusal(
      wm.request(ReqIdentifier.GetNewestSeq, encodeGetMaxSeqReq({ userID: alice.userID })),
    );
    expect(err.errCode).toBe(1002);
  });

  test("the REST proxy resolves the caller's own imToken: A cannot act as B (1002), and OpenIM's envelope passes through unchanged", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/im/*",
        "server:internal/rpc/user/user.go UpdateUserInfoEx",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // reference/gateway/src/server.ts POST /api/im/* (the JWT's userID picks the imToken); server: user.go UpdateUserInfoEx
    const [a, b] = await stack.gatewayUsers(2);
    const operationID = newOperationID();
    const asB = await stack.gateway.im(
      a.login.jwt,
      "user/update_user_info_ex",
      { userInfo: { userID: b.userID, nickname: "hijacked" } },
      operationID,
    );
    expect(asB.status).toBe(200);
    // errMsg from an RPC is OpenIM's whole error chain (observed on v3.8.3), passed on as it came.
    expect(asB.body).toMatchObject({ errCode: 1002, errMsg: expect.stringContaining("NoPermissionError") });
    expect(asB.headers.operationid).toBe(operationID);

    const asSelf = await stack.gateway.im(a.login.jwt, "user/update_user_info_ex", {
      userInfo: { userID: a.userID, nickname: "renamed" },
    });
    expect(asSelf.body).toEqual({ errCode: 0, errMsg: "", errDlt: "" });
    const info = await stack.gateway.im(b.login.jwt, "user/get_users_info", {
      userIDs: [a.userID, b.userID],
    });
    const names = Object.fromEntries(
      (
        (info.body as { data: { usersInfo: Array<{ userID: string; nickname: string }> } }).data.usersInfo ??
        []
      ).map((u) => [u.userID, u.nickname]),
    );
    expect(names[a.userID]).toBe("renamed");
    expect(names[b.userID]).not.toBe("hijacked");
  });

  test("an admin-only OpenIM route called through the proxy with a user's JWT is refused by OpenIM itself (1002)", {
    meta: {
      source: [
        "server:internal/api/msg.go SendMessage",
        "gateway:reference/gateway/src/server.ts POST /api/im/*",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 msg/send_msg ("Caller must be an app admin" → 1002 "only app manager can send message")
    const [a, b] = await stack.gatewayUsers(2);
    const res = await stack.gateway.im(a.login.jwt, "msg/send_msg", {
      sendID: a.userID,
      recvID: b.userID,
      senderPlatformID: 3,
      content: { content: "as an admin?" },
      contentType: 101,
      sessionType: 1,
    });
    expect(res.body).toMatchObject({ errCode: 1002 });
  });

  test("a banned user's JWT is refused on the REST proxy (403 banned)", {
    meta: { source: ["gateway:reference/gateway/src/server.ts authenticate"] },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts authenticate checks the ban on every request, not only at login
    const u = await stack.gatewayUser();
    await stack.admin("POST", `users/${u.userID}/ban`, {});
    const res = await stack.gateway.im(u.login.jwt, "user/update_user_info_ex", {
      userInfo: { userID: u.userID, nickname: "banned but busy" },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: "banned" } });
    await stack.admin("POST", `users/${u.userID}/unban`, {});
  });
});

describe("a group the caller is not in", () => {
  test("an outsider cannot send (1203), kick (1002), mute (1004), set info (1004), invite (1004), transfer or dismiss (1002)", {
    meta: {
      source: [
        "server:internal/rpc/msg/verify.go messageVerification",
        "server:internal/rpc/group/group.go KickGroupMember",
        "server:internal/rpc/group/group.go MuteGroupMember",
        "server:internal/rpc/group/group.go MuteGroup",
        "server:internal/rpc/group/group.go SetGroupInfo",
        "server:internal/rpc/group/group.go InviteUserToGroup",
        "server:internal/rpc/group/group.go TransferGroupOwner",
        "server:internal/rpc/group/group.go DismissGroup",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §5 (observed codes per route) — server: msg/verify.go, group.go
    const g = await newGroup(stack, { members: 1 });
    const [outsider, friend] = await stack.newUsers(2);
    const ws = await stack.connect(outsider);
    await expect(ws.sendText({ groupID: g.groupID, text: "let me in" })).rejects.toMatchObject({
      errCode: 1203,
    });
    const as = restAs(stack, outsider);
    const G = g.groupID;
    const member = g.members[0].userID;
    const codes = {
      kick: (await refusal(as("group/kick_group", { groupID: G, kickedUserIDs: [member], reason: "" })))
        .errCode,
      mute: (await refusal(as("group/mute_group_member", { groupID: G, userID: member, mutedSeconds: 60 })))
        .errCode,
      muteGroup: (await refusal(as("group/mute_group", { groupID: G }))).errCode,
      setInfo: (
        await refusal(as("group/set_group_info", { groupInfoForSet: { groupID: G, groupName: "mine" } }))
      ).errCode,
      invite: (
        await refusal(as("group/invite_user_to_group", { groupID: G, invitedUserIDs: [friend.userID] }))
      ).errCode,
      transfer: (
        await refusal(
          as("group/transfer_group", { groupID: G, oldOwnerUserID: g.owner.userID, newOwnerUserID: member }),
        )
      ).errCode,
      dismiss: (await refusal(as("group/dismiss_group", { groupID: G, deleteMember: false }))).errCode,
    };
    expect(codes).toEqual({
      kick: 1002,
      mute: 1004,
      muteGroup: 1004,
      setInfo: 1004,
      invite: 1004,
      transfer: 1002,
      dismiss: 1002,
    });
    expect(await groupInfo(stack, G)).toMatchObject({
      status: 0,
      ownerUserID: g.owner.userID,
      memberCount: 2,
    });
  });

  test("an outsider can read the group's member list, member details and info (finding: no membership check in v3.8.3)", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go GetGroupMemberList",
        "server:internal/rpc/group/group.go GetGroupMembersInfo",
        "server:internal/rpc/group/group.go GetGroupsInfo",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 group/get_group_members_info ("No membership check in v3.8.3") — server: group.go GetGroupMemberList
    const g = await newGroup(stack, { admins: 1, members: 1, settle: false });
    const outsider = await stack.user();
    const as = restAs(stack, outsider);
    const list = await as<{ total: number; members: Array<{ userID: string }> }>(
      "group/get_group_member_list",
      {
        groupID: g.groupID,
        pagination: { pageNumber: 1, showNumber: 100 },
      },
    );
    expect(list.total).toBe(3);
    const info = await membersInfo(stack, outsider, g.groupID, [g.owner.userID]);
    expect(info[g.owner.userID]?.roleLevel).toBe(100);
    const groups = await as<{ groupInfos: Array<{ groupID: string }> }>("group/get_groups_info", {
      groupIDs: [g.groupID],
    });
    expect(groups.groupInfos.map((x) => x.groupID)).toEqual([g.groupID]);
  });
});

describe("what nginx and the gateway expose", () => {
  const viaNginx = (route: string, body: unknown, headers: Record<string, string> = {}) =>
    request(`${stack.endpoints.nginx}${route}`, {
      method: "POST",
      headers: { "content-type": "application/json", operationID: newOperationID(), ...headers },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.statusCode, text: await r.body.text() }));

  test("OpenIM's REST admin API is not reachable through nginx: its routes answer 404 and never an OpenIM envelope", {
    meta: {
      source: [
        "cutover:src/stack/nginx-config.ts",
        "server:internal/api/router.go Whitelist",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // src/stack/nginx-config.ts ("OpenIM's own REST API not exposed at all"); docs/openim-protocol.md §3 auth routes
    const u = await stack.user();
    const tries: Array<[string, unknown]> = [
      ["/auth/get_admin_token", { secret: stack.endpoints.adminSecret, userID: stack.endpoints.adminUserID }],
      ["/auth/get_user_token", { userID: u.userID, platformID: 5 }],
      ["/user/user_register", { users: [{ userID: `x_${unique()}`, nickname: "x" }] }],
      ["/auth/force_logout", { userID: u.userID, platformID: 3 }],
      [
        "/api/auth/get_admin_token",
        { secret: stack.endpoints.adminSecret, userID: stack.endpoints.adminUserID },
      ],
    ];
    for (const [route, body] of tries) {
      const res = await viaNginx(route, body, { token: stack.adminToken });
      expect(res.status, route).toBe(404);
      expect(parseApiEnvelope(res.text).ok, route).toBe(false);
    }
  });

  test("the webhook endpoints are not routed from outside: /webhooks/openim/* and /api/webhooks/* answer 404", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /webhooks/openim/:command",
        "cutover:src/stack/nginx-config.ts",
      ],
    },
  }, async () => {
    // reference/gateway/src/server.ts ("not routed by nginx: only OpenIM on the inside reaches them")
    const hook = { sendID: "anyone", content: "{}", callbackCommand: "callbackBeforeSendSingleMsgCommand" };
    for (const route of [
      "/webhooks/openim/callbackBeforeSendSingleMsgCommand",
      "/api/webhooks/openim/callbackBeforeSendSingleMsgCommand",
    ]) {
      const res = await viaNginx(route, hook);
      expect(res.status, route).toBe(404);
      expect(res.text, route).not.toContain("actionCode");
    }
  });

  test("forged, expired, alg:none and other-algorithm JWTs get 401 and never reach OpenIM", {
    meta: {
      source: [
        "gateway:reference/gateway/src/jwt.ts verify",
        "gateway:reference/gateway/src/server.ts authenticate",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    stack.requires(ctx, "localFiles");
    // reference/gateway/src/jwt.ts verify (HS256 only, exp, iss, aud)
    const u = await stack.gatewayUser();
    const secret = (
      JSON.parse(readFileSync(path.join(stack.runDir, "config", "gateway.json"), "utf8")) as {
        jwt: { secret: string };
      }
    ).jwt.secret;
    const key = new TextEncoder().encode(secret);
    const claims = { plat: 3, role: "user", sub: u.userID, iss: "cutover-gateway", aud: "cutover" };
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const [h, p] = u.login.jwt.split(".");
    const forged = `${h}.${p}.${"A".repeat(43)}`;
    const expired = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(key);
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims, exp: now + 3600 })}.`;
    const hs512 = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS512" })
      .setExpirationTime(now + 3600)
      .sign(key);
    const untouched = await neverProxied(async () => {
      for (const jwt of [forged, expired, none, hs512, "not-a-jwt"]) {
        const res = await stack.gateway.im(jwt, "user/get_users_info", { userIDs: [u.userID] });
        expect(res.status, jwt.slice(0, 30)).toBe(401);
        expect(res.body).toMatchObject({ error: { code: "unauthorized" } });
      }
      const bare = await stack.gateway.request("POST", "/api/im/user/get_users_info", { userIDs: [] });
      expect(bare.status).toBe(401);
    });
    expect(untouched).toBe(true);
  });

  test("a login handshake cannot be replayed: the same sealed login a second time gets 401", {
    meta: {
      source: [
        "gateway:reference/gateway/src/dh-sessions.ts take",
        "gateway:reference/gateway/src/login-routes.ts addHandshakeAndRegistration",
      ],
    },
  }, async () => {
    // reference/gateway/src/dh-sessions.ts take (one use), server.ts openSealed; src/protocol/gateway-auth.ts
    const u = await stack.gatewayUser();
    const own = newKeyPair();
    const hs = (
      await stack.gateway.request("POST", "/api/auth/handshake", { clientPublicKey: own.publicKey })
    ).body as { sessionID: string; serverPublicKey: string; salt: string };
    const key = deriveSessionKey(own.privateKey, hs.serverPublicKey, hs.salt);
    const body = {
      sessionID: hs.sessionID,
      ...seal(key, hs.sessionID, { userID: u.userID, password: u.password }),
      platformID: 3,
    };
    const first = await stack.gateway.request("POST", "/api/auth/login", body);
    expect(first.status).toBe(200);
    const replay = await stack.gateway.request("POST", "/api/auth/login", body);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({
      error: { code: "unauthorized", message: expect.stringContaining("used") },
    });
  });

  const post = (base: string, route: string, body: unknown, jwt?: string) =>
    request(`${base}${route}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.statusCode, body: await r.body.text() }));
  const huge = { userIDs: ["x".repeat(1024 * 1024 + 1)] };

  test("the gateway refuses a body over its 1 MiB limit with 413, with or without a JWT", {
    meta: { source: ["gateway:reference/gateway/src/server.ts bodyLimit"] },
  }, async (ctx) => {
    const gw = stack.endpoints.gateway;
    skipUnless(ctx, gw !== undefined, "the target gives no direct address of the gateway (only nginx)");
    // reference/gateway/src/server.ts Fastify({ bodyLimit: 1024 * 1024 })
    const u = await stack.gatewayUser();
    const proxied = await post(gw, "/api/im/user/get_users_info", huge, u.login.jwt);
    expect(proxied).toMatchObject({ status: 413, body: expect.stringContaining("too large") });
    expect((await post(gw, "/api/auth/handshake", { clientPublicKey: "k".repeat(1_100_000) })).status).toBe(
      413,
    );
    // Nothing else broke: the same user's ordinary call still goes through.
    const ok = await stack.gateway.im(u.login.jwt, "user/get_users_info", { userIDs: [u.userID] });
    expect(ok.body).toMatchObject({ errCode: 0 });
  });

  test("through nginx an oversize body is refused with 413 by nginx itself, before the gateway", {
    meta: { source: ["cutover:src/stack/nginx-config.ts"] },
  }, async () => {
    // src/stack/nginx-config.ts: client_max_body_size 1m on /api/, the gateway's own limit
    const u = await stack.gatewayUser();
    for (let i = 0; i < 3; i++) {
      const res = await post(stack.endpoints.nginx, "/api/im/user/get_users_info", huge, u.login.jwt);
      expect(res.status).toBe(413);
      expect(parseApiEnvelope(res.body).ok).toBe(false);
    }
    const ok = await stack.gateway.im(u.login.jwt, "user/get_users_info", { userIDs: [u.userID] });
    expect(ok.body).toMatchObject({ errCode: 0 });
  });

  test("path traversal in /api/im/ routes never reaches OpenIM nor escapes to an admin route", {
    meta: {
      source: ["gateway:reference/gateway/src/server.ts POST /api/im/*", "cutover:src/stack/nginx-config.ts"],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts /api/im/* route pattern; src/stack/nginx-config.ts (URI normalisation, location /)
    const u = await stack.gatewayUser();
    const paths: Array<["GET" | "POST", string]> = [
      ["POST", "/api/im/../admin/traffic"],
      ["GET", "/api/im/../admin/traffic"],
      ["POST", "/api/im/user/../../admin/groups"],
      ["POST", "/api/im/%2e%2e/%2e%2e/auth/get_admin_token"],
      ["POST", "/api/im/..%2f..%2fauth%2fget_admin_token"],
      ["POST", "/api/im/user/get_users_info/../../../auth/get_admin_token"],
      ["POST", "/api/im/auth/get_admin_token/..%2f..%2f..%2fadmin%2ftraffic"],
      ["POST", "/api/im/user.get_users_info"],
    ];
    const untouched = await neverProxied(async () => {
      for (const [method, route] of paths) {
        const res = await request(`${stack.endpoints.nginx}${route}`, {
          method,
          headers: { "content-type": "application/json", authorization: `Bearer ${u.login.jwt}` },
          body:
            method === "POST"
              ? JSON.stringify({ secret: stack.endpoints.adminSecret, userID: stack.endpoints.adminUserID })
              : undefined,
        });
        const body = await res.body.text();
        expect(res.statusCode, `${method} ${route}`).toBeGreaterThanOrEqual(400);
        expect(parseApiEnvelope(body).ok, `${method} ${route}`).toBe(false);
      }
    });
    expect(untouched).toBe(true);
  });

  test("the proxy refuses auth/* routes (403): OpenIM whitelists get_admin_token, so only the gateway stands in front of it", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/im/*",
        "server:internal/api/router.go Whitelist",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // docs/openim-protocol.md §3 Headers (whitelisted /auth/get_admin_token); reference/gateway/src/server.ts /api/im/*
    const u = await stack.gatewayUser();
    const untouched = await neverProxied(async () => {
      for (const route of [
        "auth/get_admin_token",
        "auth/parse_token",
        "auth/get_user_token",
        "AUTH/force_logout",
      ]) {
        const res = await stack.gateway.im(u.login.jwt, route, {
          secret: stack.endpoints.adminSecret,
          userID: stack.endpoints.adminUserID,
        });
        expect(res.status, route).toBe(403);
        expect(res.body, route).toMatchObject({ error: { code: "forbidden" } });
      }
    });
    expect(untouched).toBe(true);
  });
});
