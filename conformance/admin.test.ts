import { describe, expect, test } from "vitest";
import {
  decodeText,
  forceLogout,
  getUsersOnlineStatus,
  getUserToken,
  groupConversationID,
  MsgFrom,
  type OpenImError,
  type ReceivedMsg,
} from "../src/protocol/index.js";
import { asTestUser, closed, eventually, inbox, nextPush } from "./support/fixtures.js";
import { groupInfo, groupSettled, membersInfo, refusedAsDismissed, sendOutcome } from "./support/groups.js";
import { useStack } from "./support/stack.js";

// Suite `admin`: the gateway's admin routes (admin JWT only), the OpenIM admin API they call,
// force logout, system messages, bans, and the moderation webhooks (docs/openim-protocol.md §3, §6;
// reference/gateway/src/server.ts, moderation.ts).
const stack = useStack();

/** OpenIM's envelope as the admin routes answer it. */
interface Envelope<T = unknown> {
  errCode: number;
  errMsg: string;
  errDlt: string;
  data?: T;
}
/** The answer of a group creation that succeeded: its envelope carries the group. */
type GroupCreated = Envelope & {
  data: { groupInfo: { groupID: string; ownerUserID: string; memberCount: number } };
};

const admin = <T = Envelope>(method: "GET" | "POST", route: string, body?: unknown) =>
  stack.admin<T>(method, route, body);
const text = (t: string) => (m: ReceivedMsg) => decodeText(m) === t;
const unique = (label: string) =>
  `${label} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

/** A group made through POST /api/admin/groups, with its members' live connections. */
async function adminGroup<M extends number>(members: M) {
  const [owner, rest] = await Promise.all([stack.gatewayUser(), stack.gatewayUsers(members)]);
  const res = await admin<GroupCreated>("POST", "groups", {
    ownerUserID: owner.userID,
    memberUserIDs: rest.map((u) => u.userID),
    groupName: "admin-made",
  });
  expect(res.errCode).toBe(0);
  const groupID = res.data.groupInfo.groupID;
  // kick reads the conversation's max seq, which is 0 until the 1501 notice is sequenced.
  await groupSettled(stack, owner.userID, groupID);
  return { groupID, owner, members: rest };
}

type ModerationEvent = { decision: string; command: string; groupID?: string; sendID?: string };
const moderationEvents = async (query: string) =>
  (await admin<{ events: ModerationEvent[] }>("GET", `moderation?${query}`)).events;

describe("who may call the admin routes", () => {
  test("admin routes called with a user's JWT are refused with 403", {
    meta: { source: ["gateway:reference/gateway/src/server.ts requireAdmin"] },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    const u = await stack.gatewayUser();
    const asUser = (method: "GET" | "POST", route: string, body?: unknown) =>
      stack.gateway.admin(u.login.jwt, method, route, body);
    await expect(asUser("POST", `users/${u.userID}/force-logout`, {})).rejects.toMatchObject({
      status: 403,
    });
    await expect(asUser("POST", "groups", { ownerUserID: u.userID })).rejects.toMatchObject({
      status: 403,
      code: "forbidden",
    });
    await expect(asUser("GET", "moderation")).rejects.toMatchObject({ status: 403 });
    await expect(asUser("GET", "traffic")).rejects.toMatchObject({ status: 403 });
  });

  test("an admin route called without a JWT is refused with 401", {
    meta: { source: ["gateway:reference/gateway/src/server.ts authenticate"] },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    const res = await stack.gateway.request("POST", "/api/admin/groups", { ownerUserID: "whoever" });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: "unauthorized" } });
  });

  test("an admin route refuses a malformed body with 400 before calling OpenIM", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/admin/groups",
        "gateway:reference/gateway/src/http-input.ts userIDSchema",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    await expect(
      admin("POST", "groups", { ownerUserID: "not-legal", memberUserIDs: [] }),
    ).rejects.toMatchObject({
      status: 400,
      code: "bad_request",
    });
  });
});

describe("groups through the gateway (OpenIM's group API with the admin token)", () => {
  test("POST /api/admin/groups creates the group in OpenIM and answers OpenIM's envelope (whose memberCount also counts the admin caller)", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/admin/groups",
        "server:internal/rpc/group/group.go CreateGroup",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts POST /api/admin/groups → docs/openim-protocol.md §3 group/create_group
    const [owner, member] = await stack.gatewayUsers(2);
    const res = await admin<GroupCreated>("POST", "groups", {
      ownerUserID: owner.userID,
      memberUserIDs: [member.userID],
      groupName: "made by an admin",
    });
    expect(res).toMatchObject({ errCode: 0, errMsg: "", errDlt: "" });
    const groupID = res.data.groupInfo.groupID;
    expect(await groupInfo(stack, groupID)).toMatchObject({
      groupName: "made by an admin",
      groupType: 2,
      ownerUserID: owner.userID,
    });
    // Observed on v3.8.3 (server: group.go CreateGroup): the caller is counted in the answer's memberCount
    // (len(userIDs) includes opUserID) but not made a member: the group has the owner and the member only.
    expect(res.data.groupInfo).toMatchObject({ ownerUserID: owner.userID, memberCount: 3 });
    expect((await groupInfo(stack, groupID)).memberCount).toBe(2);
    const roles = await membersInfo(stack, { token: stack.adminToken }, groupID, [
      owner.userID,
      member.userID,
      stack.endpoints.adminUserID,
    ]);
    expect(Object.fromEntries(Object.values(roles).map((m) => [m.userID, m.roleLevel]))).toEqual({
      [owner.userID]: 100,
      [member.userID]: 20,
    });
  });

  test("OpenIM's refusal passes through the admin route: an unknown member → 1101, kicking the owner → 1001", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts envelope",
        "server:internal/rpc/group/group.go CreateGroup",
        "server:internal/rpc/group/group.go KickGroupMember",
        "docs/openim-protocol.md §3",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts envelope(); docs/openim-protocol.md §3 create_group (1101), §5 Kick (1001)
    const owner = await stack.gatewayUser();
    const bad = await admin("POST", "groups", {
      ownerUserID: owner.userID,
      memberUserIDs: ["nobody_by_this_id"],
    });
    expect(bad).toMatchObject({ errCode: 1101, errMsg: expect.stringContaining("UserIDNotFoundError") });
    const g = await adminGroup(1);
    const kickOwner = await admin("POST", `groups/${g.groupID}/kick`, { userIDs: [g.owner.userID] });
    expect(kickOwner).toMatchObject({
      errCode: 1001,
      errMsg: expect.stringContaining("ownerUID can not Kick"),
    });
  });

  test("muting a member through the gateway makes their send 1402; unmuting lets it through", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/admin/groups/:groupID/mute",
        "server:internal/rpc/group/group.go MuteGroupMember",
        "server:internal/rpc/group/group.go CancelMuteGroupMember",
        "server:internal/rpc/msg/verify.go messageVerification",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts /groups/:id/mute|unmute → group/mute_group_member, cancel_mute_group_member; §5 (1402)
    const g = await adminGroup(1);
    const m = g.members[0];
    const ws = await stack.connect(asTestUser(m));
    expect(await admin("POST", `groups/${g.groupID}/mute`, { userID: m.userID, seconds: 60 })).toMatchObject({
      errCode: 0,
    });
    expect(await sendOutcome(ws, g.groupID, 1402)).toBe(1402);
    expect(await admin("POST", `groups/${g.groupID}/unmute`, { userID: m.userID })).toMatchObject({
      errCode: 0,
    });
    expect(await sendOutcome(ws, g.groupID, 0)).toBe(0);
  });

  test("muting the group through the gateway gives ordinary members 1403 while the owner still sends; unmuting restores", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/admin/groups/:groupID/mute",
        "server:internal/rpc/group/group.go MuteGroup",
        "server:internal/rpc/group/group.go CancelMuteGroup",
        "server:internal/rpc/msg/verify.go messageVerification",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts /groups/:id/mute (no userID) → group/mute_group; §5 (1403, owner allowed)
    const g = await adminGroup(1);
    const [wOwner, wMember] = await Promise.all([
      stack.connect(asTestUser(g.owner)),
      stack.connect(asTestUser(g.members[0])),
    ]);
    expect(await admin("POST", `groups/${g.groupID}/mute`, {})).toMatchObject({ errCode: 0 });
    expect((await groupInfo(stack, g.groupID)).status).toBe(3);
    expect(await sendOutcome(wMember, g.groupID, 1403)).toBe(1403);
    await expect(wOwner.sendText({ groupID: g.groupID, text: "owner" })).resolves.toBeDefined();
    expect(await admin("POST", `groups/${g.groupID}/unmute`, {})).toMatchObject({ errCode: 0 });
    expect(await sendOutcome(wMember, g.groupID, 0)).toBe(0);
  });

  test("kicking through the gateway removes the member: their send gets 1203", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/admin/groups/:groupID/kick",
        "server:internal/rpc/group/group.go KickGroupMember",
        "server:internal/rpc/msg/verify.go messageVerification",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts /groups/:id/kick → group/kick_group; §5 sender checks (1203)
    const g = await adminGroup(2);
    const leaver = g.members[1];
    const ws = await stack.connect(asTestUser(leaver));
    expect(await admin("POST", `groups/${g.groupID}/kick`, { userIDs: [leaver.userID] })).toMatchObject({
      errCode: 0,
    });
    expect(await membersInfo(stack, { token: stack.adminToken }, g.groupID, [leaver.userID])).toEqual({});
    expect(await sendOutcome(ws, g.groupID, 1203)).toBe(1203);
  });

  test("dismissing through the gateway stops every send (1204); dismissing again answers 1204", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/admin/groups/:groupID/dismiss",
        "server:internal/rpc/group/group.go DismissGroup",
        "server:internal/rpc/msg/verify.go messageVerification",
        "docs/openim-protocol.md §3",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts /groups/:id/dismiss → group/dismiss_group; §5 sender checks (1204)
    const g = await adminGroup(1);
    const ws = await stack.connect(asTestUser(g.owner));
    expect(await admin("POST", `groups/${g.groupID}/dismiss`, {})).toMatchObject({ errCode: 0 });
    expect(await sendOutcome(ws, g.groupID, 1204)).toBe(1204);
    const again = await admin("POST", `groups/${g.groupID}/dismiss`, {});
    expect(refusedAsDismissed(again), again.errMsg.slice(0, 300)).toBe(true);
    expect((await groupInfo(stack, g.groupID)).status).toBe(2);
  });
});

describe("force logout", () => {
  test("force logout drops the live WebSocket with a kick, removes the cached imToken, and OpenIM refuses the old token (1506)", {
    meta: {
      source: [
        "gateway:reference/gateway/src/openim-bridge.ts logoutEverywhere",
        "server:internal/rpc/auth/auth.go forceKickOff",
        "server:internal/msggateway/hub_server.go KickUserOffline",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/openim-bridge.ts logoutEverywhere → docs/openim-protocol.md §1 auth/force_logout (2002, then kicked tokens)
    const u = await stack.gatewayUser();
    const ws = await stack.connect(asTestUser(u));
    const dropped = closed(ws);
    await admin("POST", `users/${u.userID}/force-logout`, {});
    // Observed on v3.8.3: the 2002 frame, then the socket ends without a close frame (1006).
    expect(await dropped).toMatchObject({ wasKicked: true, code: 1006 });
    if (stack.offers("redisAccess")) expect(await stack.redis.exists(`imtoken:${u.userID}:3`)).toBe(0);
    await expect(stack.connect(asTestUser(u))).rejects.toMatchObject({ errCode: 1506 });
    const rest = await stack.rest
      .call("user/get_users_info", { userIDs: [u.userID] }, { token: u.login.imToken })
      .catch((e: OpenImError) => e);
    expect((rest as OpenImError).errCode).toBe(1506);
  });

  test("force logout of one platform leaves the user's session on another platform online", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/admin/users/:userID/force-logout",
        "server:internal/rpc/auth/auth.go forceKickOff",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts force-logout {platformID}; docs/openim-protocol.md §1 ("every connection of that user+platform")
    const u = await stack.gatewayUser(3);
    const mobile = await stack.gateway.login(u.userID, u.password, 2);
    const pc = await stack.connect(asTestUser(u));
    const phone = await stack.connect({ userID: u.userID, token: mobile.imToken, platformID: 2 });
    const pcDropped = closed(pc);
    await admin("POST", `users/${u.userID}/force-logout`, { platformID: 3 });
    expect((await pcDropped).wasKicked).toBe(true);
    expect(phone.isOpen).toBe(true);
    await expect(phone.getNewestSeq()).resolves.toBeDefined();
  });

  test("OpenIM's auth/force_logout (the admin API behind the route) takes the user offline in get_users_online_status", {
    meta: {
      source: [
        "server:internal/rpc/auth/auth.go ForceLogout",
        "server:internal/api/user.go GetUsersOnlineStatus",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "adminAccess");
    // docs/openim-protocol.md §3 auth/force_logout, user/get_users_online_status — server: auth.go forceKickOff
    const u = await stack.user();
    const ws = await stack.connect(u);
    const online = async () =>
      (await getUsersOnlineStatus(stack.rest, stack.adminToken, [u.userID]))[0]?.status ?? 0;
    expect(await eventually(async () => (await online()) === 1)).toBe(true);
    const dropped = closed(ws);
    await forceLogout(stack.rest, stack.adminToken, u.userID, u.platformID);
    expect((await dropped).wasKicked).toBe(true);
    expect(await eventually(async () => (await online()) === 0)).toBe(true);
  });
});

describe("system messages", () => {
  test("a system message from the admin route reaches the user, sent by the OpenIM admin as a system message (msgFrom 200)", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/admin/system-message",
        "server:internal/api/msg.go SendMessage",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts POST /api/admin/system-message → docs/openim-protocol.md §3 msg/send_msg (msgFrom=200)
    const u = await stack.gatewayUser();
    const ws = await stack.connect(asTestUser(u));
    const t = unique("maintenance at noon");
    const arrival = nextPush(ws, text(t));
    const answer = await admin("POST", "system-message", { recvID: u.userID, text: t });
    expect(answer).toMatchObject({ errCode: 0, data: { serverMsgID: expect.any(String) } });
    expect(await arrival).toMatchObject({ sendID: stack.endpoints.adminUserID, msgFrom: MsgFrom.System });
  });

  test("a system message to a group reaches every member once, though the admin is not a member", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/admin/system-message",
        "server:internal/rpc/msg/verify.go messageVerification",
        "server:internal/push/push_handler.go Push2Group",
        "docs/openim-protocol.md §5",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // docs/openim-protocol.md §5 sender checks (4. app admin → allowed); §2 Push2Group
    const g = await adminGroup(2);
    const sockets = await Promise.all([g.owner, ...g.members].map((u) => stack.connect(asTestUser(u))));
    const boxes = sockets.map((ws) => inbox(ws));
    const t = unique("group notice");
    const answer = await admin("POST", "system-message", { groupID: g.groupID, text: t });
    expect(answer).toMatchObject({ errCode: 0 });
    expect(await eventually(() => boxes.every((b) => b.some(text(t))))).toBe(true);
    for (const b of boxes) {
      const copies = b.filter(text(t));
      expect(copies).toHaveLength(1);
      expect(copies[0]).toMatchObject({
        conversationID: groupConversationID(g.groupID),
        sendID: stack.endpoints.adminUserID,
      });
    }
  });

  test("a system message needs exactly one of recvID and groupID (400)", {
    meta: { source: ["gateway:reference/gateway/src/server.ts POST /api/admin/system-message"] },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    const u = await stack.gatewayUser();
    await expect(
      admin("POST", "system-message", { recvID: u.userID, groupID: "g1", text: "x" }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(admin("POST", "system-message", { text: "to nobody" })).rejects.toMatchObject({
      status: 400,
    });
  });

  test("a system message to an unknown group answers OpenIM's 1004 in the envelope", {
    meta: {
      source: [
        "server:internal/rpc/msg/verify.go messageVerification",
        "server:pkg/rpccache/group.go GetGroupInfo",
        "docs/openim-protocol.md §5",
      ],
      provokes: ["GroupLocalCache GetGroupInfo return"],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // docs/openim-protocol.md §5 sender checks (1. unknown group → 1004); OpenIM also logs the failed lookup as an ERROR
    const answer = await admin("POST", "system-message", {
      groupID: `nogroup_${Date.now()}`,
      text: "anyone?",
    });
    expect(answer).toMatchObject({ errCode: 1004 });
  });
});

describe("bans", () => {
  test("a banned user can no longer log in, and their live session is dropped; unban lets them back", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/admin/users/:userID/ban",
        "gateway:reference/gateway/src/server.ts POST /api/auth/login",
        "gateway:reference/gateway/src/openim-bridge.ts logoutEverywhere",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts /users/:id/ban|unban, POST /api/auth/login (403 banned)
    const u = await stack.gatewayUser();
    const ws = await stack.connect(asTestUser(u));
    const dropped = closed(ws);
    await admin("POST", `users/${u.userID}/ban`, {});
    expect((await dropped).wasKicked).toBe(true);
    await expect(stack.gateway.login(u.userID, u.password, 3)).rejects.toMatchObject({
      status: 403,
      code: "banned",
    });
    await admin("POST", `users/${u.userID}/unban`, {});
    await expect(stack.gateway.login(u.userID, u.password, 3)).resolves.toMatchObject({
      userID: u.userID,
    });
  });

  test("a banned user's messages are denied by the moderation hook even with a token from OpenIM itself; after unban they pass", {
    meta: {
      source: [
        "gateway:reference/gateway/src/moderation.ts decide",
        "server:internal/rpc/msg/callback.go webhookBeforeSendSingleMsg",
        "docs/openim-protocol.md §6",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    stack.requires(ctx, "moderationWebhooks");
    // reference/gateway/src/moderation.ts decide ("sender is banned"); docs/openim-protocol.md §6 deny reply
    const [u, peer] = await stack.gatewayUsers(2);
    await admin("POST", `users/${u.userID}/ban`, {});
    const fresh = await getUserToken(stack.rest, stack.adminToken, u.userID, 5);
    const ws = await stack.connect({ userID: u.userID, token: fresh.token, platformID: 5 });
    const err = await ws.sendText({ recvID: peer.userID, text: "I am banned" }).catch((e: OpenImError) => e);
    expect(err).toMatchObject({
      errCode: stack.profile.moderationDenyErrCode,
      errMsg: expect.stringContaining("sender is banned"),
    });
    await admin("POST", `users/${u.userID}/unban`, {});
    await expect(ws.sendText({ recvID: peer.userID, text: "unbanned" })).resolves.toBeDefined();
  });

  test("banning an account the gateway does not know is refused with 404", {
    meta: { source: ["gateway:reference/gateway/src/server.ts POST /api/admin/users/:userID/ban"] },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    await expect(admin("POST", "users/nobody_by_this_id/ban", {})).rejects.toMatchObject({
      status: 404,
      code: "not_found",
    });
  });
});

describe("moderation webhooks", () => {
  const ban = async (word: string) => admin("POST", "moderation/banned-words", { add: [word] });

  test("a message with a banned word is refused at send time with the hook's errCode and never delivered", {
    meta: {
      source: [
        "gateway:reference/gateway/src/moderation.ts decide",
        "server:internal/rpc/msg/callback.go webhookBeforeSendSingleMsg",
        "server:pkg/callbackstruct/common.go CommonCallbackResp",
        "docs/openim-protocol.md §6",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    stack.requires(ctx, "moderationWebhooks");
    // docs/openim-protocol.md §6 before-send (synchronous; deny = actionCode 0 + nextCode 1) — reference/gateway/src/moderation.ts
    const word = `forbidden${Date.now().toString(36)}`;
    await ban(word);
    const [a, b] = await stack.gatewayUsers(2);
    const wa = await stack.connect(asTestUser(a));
    const wb = await stack.connect(asTestUser(b));
    const got: string[] = [];
    wb.on("push", (msgs) => got.push(...msgs.map((m) => decodeText(m) ?? "")));

    const refused = await wa
      .sendText({ recvID: b.userID, text: `this has ${word.toUpperCase()} in it` })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({
      errCode: stack.profile.moderationDenyErrCode,
      errMsg: expect.stringContaining("banned word"),
    });

    const clean = nextPush(wb, text("a clean message"));
    const ack = await wa.sendText({ recvID: b.userID, text: "a clean message" });
    await clean;
    expect(got.some((t) => t.includes(word))).toBe(false);

    // The after-send hook is asynchronous; it records the delivered message shortly after.
    let recorded: ModerationEvent[] = [];
    await eventually(async () => {
      recorded = await moderationEvents(`clientMsgID=${ack.clientMsgID}`);
      return recorded.some((e) => e.decision === "recorded");
    });
    expect(recorded.map((e) => e.decision).sort()).toEqual(["allow", "recorded"]);
  });

  test("a banned word in a group message is refused with the hook's errCode and no member receives it", {
    meta: {
      source: [
        "gateway:reference/gateway/src/moderation.ts decide",
        "server:internal/rpc/msg/callback.go webhookBeforeSendGroupMsg",
        "docs/openim-protocol.md §6",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    stack.requires(ctx, "moderationWebhooks");
    // docs/openim-protocol.md §6 callbackBeforeSendGroupMsgCommand — server: internal/rpc/msg/callback.go
    const word = `groupbanned${Date.now().toString(36)}`;
    await ban(word);
    const g = await adminGroup(1);
    const [wOwner, wMember] = await Promise.all([
      stack.connect(asTestUser(g.owner)),
      stack.connect(asTestUser(g.members[0])),
    ]);
    const memberGot = inbox(wMember);
    await expect(wOwner.sendText({ groupID: g.groupID, text: `say ${word}` })).rejects.toMatchObject({
      errCode: stack.profile.moderationDenyErrCode,
    });
    const barrier = unique("harmless");
    const seen = nextPush(wMember, text(barrier));
    await wOwner.sendText({ groupID: g.groupID, text: barrier });
    await seen;
    expect(memberGot.some((m) => decodeText(m)?.includes(word))).toBe(false);
  });

  test("the hooks see a group message before (allow) and after (recorded) sending, with its groupID", {
    meta: {
      source: [
        "gateway:reference/gateway/src/moderation.ts handle",
        "server:internal/rpc/msg/callback.go webhookBeforeSendGroupMsg",
        "server:internal/rpc/msg/callback.go webhookAfterSendGroupMsg",
        "docs/openim-protocol.md §6",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    stack.requires(ctx, "moderationWebhooks");
    // docs/openim-protocol.md §6 before/after group callbacks ("group callbacks add groupID"); after-send is async
    const g = await adminGroup(1);
    const ws = await stack.connect(asTestUser(g.owner));
    const ack = await ws.sendText({ groupID: g.groupID, text: unique("watched") });
    let events: ModerationEvent[] = [];
    await eventually(async () => {
      events = await moderationEvents(`clientMsgID=${ack.clientMsgID}`);
      return events.some((e) => e.decision === "recorded");
    });
    expect(events.map((e) => [e.command, e.decision]).sort()).toEqual([
      ["callbackAfterSendGroupMsgCommand", "recorded"],
      ["callbackBeforeSendGroupMsgCommand", "allow"],
    ]);
    for (const e of events) expect(e).toMatchObject({ groupID: g.groupID, sendID: g.owner.userID });
  });

  test("removing a banned word lets the same text through again", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/admin/moderation/banned-words",
        "gateway:reference/gateway/src/moderation.ts removeWords",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    stack.requires(ctx, "moderationWebhooks");
    const word = `temporary${Date.now().toString(36)}`;
    await ban(word);
    expect((await admin<{ bannedWords: string[] }>("GET", "moderation")).bannedWords).toContain(word);
    const [a, b] = await stack.gatewayUsers(2);
    const [wa, wb] = await Promise.all([stack.connect(asTestUser(a)), stack.connect(asTestUser(b))]);
    await expect(wa.sendText({ recvID: b.userID, text: word })).rejects.toMatchObject({
      errCode: stack.profile.moderationDenyErrCode,
    });
    const after = await admin<{ bannedWords: string[] }>("POST", "moderation/banned-words", {
      remove: [word],
    });
    expect(after.bannedWords).not.toContain(word);
    const arrival = nextPush(wb, text(word));
    await wa.sendText({ recvID: b.userID, text: word });
    expect((await arrival).sendID).toBe(a.userID);
  });
});

describe("traffic", () => {
  test("the WebSocket path goes from nginx straight to OpenIM: the gateway never sees the upgrade", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts TrafficCounters",
        "cutover:src/stack/nginx-config.ts",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    // reference/gateway/src/server.ts TrafficCounters; src/stack/nginx-config.ts (/msg_gateway → OpenIM)
    const before = await admin<{ upgradeAttempts: number; msgGatewayRequests: number }>("GET", "traffic");
    const u = await stack.gatewayUser();
    const ws = await stack.connect(asTestUser(u));
    await ws.getNewestSeq();
    await ws.close();
    const after = await admin<{ upgradeAttempts: number; msgGatewayRequests: number }>("GET", "traffic");
    expect(after.upgradeAttempts).toBe(before.upgradeAttempts);
    expect(after.msgGatewayRequests).toBe(before.msgGatewayRequests);
    expect(before.upgradeAttempts).toBe(0);
  });

  test("GET /traffic counts the calls the REST proxy forwarded to OpenIM", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts POST /api/im/*",
        "gateway:reference/gateway/src/server.ts GET /api/admin/traffic",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    const u = await stack.gatewayUser();
    const before = await admin<{ proxied: number }>("GET", "traffic");
    const res = await stack.gateway.im(u.login.jwt, "user/get_users_info", { userIDs: [u.userID] });
    expect(res.body).toMatchObject({ errCode: 0 });
    expect((await admin<{ proxied: number }>("GET", "traffic")).proxied).toBeGreaterThan(before.proxied);
  });
});
