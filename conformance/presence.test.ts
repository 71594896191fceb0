import type { SdkWsProto } from "@openim/protocol";
import { describe, expect, test } from "vitest";
import {
  forceLogout,
  getUsersOnlineStatus,
  getUserToken,
  OpenImError,
  type OpenImWsClient,
  type UserOnlineStatus,
} from "../src/protocol/index.js";
import { closed, eventually, nextPush, type TestUser } from "./support/fixtures.js";
import { gatewayInstances } from "./support/gateway-instances.js";
import { gatewayQuery, rawConnect } from "./support/raw-ws.js";
import { useStack } from "./support/stack.js";

// Suite `presence`: who is online, as the admin REST API (user/get_users_online_status)
// and the WebSocket subscription (2005) report it, through connect, disconnect, several
// platforms, background, kicks and logouts.
// Facts: docs/openim-protocol.md §1 (2004, 2005, multi-login) and §3 user/get_users_online_status;
// server: internal/api/user.go GetUsersOnlineStatus, internal/msggateway/hub_server.go,
// subscription.go, online.go (v3.8.3).
const stack = useStack();

/**
 * Both of a user's sockets on one message-gateway instance (OpenIM's own port, not nginx):
 * with several instances, user/get_users_online_status lists one instance's platforms only
 * (see "across message-gateway instances" below), so a case about two platforms pins them together.
 */
const oneInstance = { via: "direct" } as const;

async function statusOf(userID: string): Promise<UserOnlineStatus> {
  const [s] = await getUsersOnlineStatus(stack.rest, stack.adminToken, [userID]);
  if (!s) throw new Error(`get_users_online_status answered nothing for ${userID}`);
  return s;
}

/** Registration in the gateway is asynchronous (ws_server.go registerChan): poll, bounded. */
async function becomes(userID: string, probe: (s: UserOnlineStatus) => boolean): Promise<UserOnlineStatus> {
  let last: UserOnlineStatus | undefined;
  const ok = await eventually(
    async () => {
      last = await statusOf(userID);
      return probe(last);
    },
    5_000,
    50,
  );
  expect(ok, `status of ${userID} never matched; last: ${JSON.stringify(last)}`).toBe(true);
  if (!last) throw new Error(`status of ${userID} was never read`);
  return last;
}

const platformsOf = (s: UserOnlineStatus) => s.detailPlatformStatus.map((d) => d.platformID).sort();

/** A token for `u` on another platform (minting one does not disturb the tokens of other platforms). */
async function onPlatform(u: TestUser, platformID: number): Promise<TestUser> {
  const { token } = await getUserToken(stack.rest, stack.adminToken, u.userID, platformID);
  return { ...u, token, platformID };
}

/** Resolves with the first 2005 push about `userID` that satisfies `match`. */
function statusPush(
  client: OpenImWsClient,
  userID: string,
  match: (platformIDs: number[]) => boolean,
  timeoutMs = 8_000,
): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("online-status", onStatus);
      reject(new Error(`no 2005 push about ${userID} matching within ${timeoutMs} ms`));
    }, timeoutMs);
    const onStatus = (users: SdkWsProto.SubUserOnlineStatusElem[]) => {
      const hit = users.find((u) => u.userID === userID && match(u.onlinePlatformIDs));
      if (!hit) return;
      clearTimeout(timer);
      client.off("online-status", onStatus);
      resolve(hit.onlinePlatformIDs);
    };
    client.on("online-status", onStatus);
  });
}

describe("online status on the admin REST API", () => {
  test("a user who never connected, and an ID nobody registered, are both reported offline without error", {
    meta: { source: ["server:internal/api/user.go GetUsersOnlineStatus", "docs/openim-protocol.md §3"] },
  }, async () => {
    // docs/openim-protocol.md §3 user/get_users_online_status — server: internal/api/user.go GetUsersOnlineStatus
    // (every requested ID gets an entry; offline ones carry detailPlatformStatus null)
    const u = await stack.user();
    const raw = await stack.rest.call<unknown>(
      "user/get_users_online_status",
      { userIDs: [u.userID, "no_such_user_anywhere"] },
      { token: stack.adminToken },
    );
    expect(raw).toEqual([
      { userID: u.userID, status: 0, detailPlatformStatus: null },
      { userID: "no_such_user_anywhere", status: 0, detailPlatformStatus: null },
    ]);
  });

  test("a connected user is online with one entry: platformID, a 32-hex connID, isBackground false and the token it used", {
    meta: {
      source: [
        "server:internal/msggateway/hub_server.go GetUsersOnlineStatus",
        "server:internal/msggateway/context.go GetConnID",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // server: msggateway/hub_server.go GetUsersOnlineStatus (SuccessDetail from each Client); context.go ConnID = md5(...)
    const u = await stack.user(3);
    await stack.connect(u);
    const s = await becomes(u.userID, (x) => x.status === 1);
    expect(s.detailPlatformStatus).toEqual([
      {
        platformID: 3,
        connID: expect.stringMatching(/^[0-9a-f]{32}$/),
        isBackground: false,
        token: u.token,
      },
    ]);
  });

  test("closing the connection makes the user offline again", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go unregisterClient",
        "server:internal/msggateway/user_map.go DeleteClients",
      ],
    },
  }, async () => {
    // server: msggateway/ws_server.go unregisterClient (clients.DeleteClients)
    const u = await stack.user();
    const c = await stack.connect(u);
    await becomes(u.userID, (x) => x.status === 1);
    await c.close();
    const s = await becomes(u.userID, (x) => x.status === 0);
    expect(s.detailPlatformStatus).toEqual([]);
  });

  test("a connection the server drops (malformed frame) is no longer counted online", {
    meta: {
      source: [
        "server:internal/msggateway/client.go readMessage",
        "server:internal/msggateway/ws_server.go unregisterClient",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: client.go readMessage returns on the decode error → close() → UnRegister
    const u = await stack.user();
    const c = await stack.connect(u);
    await becomes(u.userID, (x) => x.status === 1);
    const gone = closed(c);
    c.sendRawFrame(new Uint8Array([0x00]), true);
    await gone;
    await becomes(u.userID, (x) => x.status === 0);
  });

  test("two platforms of one user are both listed, each with its own connID", {
    meta: {
      source: [
        "server:internal/msggateway/hub_server.go GetUsersOnlineStatus",
        "server:internal/msggateway/ws_server.go multiTerminalLoginChecker",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 multi-login policy 1 keeps other platforms — server: hub_server.go GetUsersOnlineStatus
    const u = await stack.user(3);
    const mobile = await onPlatform(u, 2);
    await stack.connect(u, oneInstance);
    await stack.connect(mobile, oneInstance);
    const s = await becomes(u.userID, (x) => x.detailPlatformStatus.length === 2);
    expect(platformsOf(s)).toEqual([2, 3]);
    expect(new Set(s.detailPlatformStatus.map((d) => d.connID)).size).toBe(2);
    expect(s.detailPlatformStatus.find((d) => d.platformID === 2)?.token).toBe(mobile.token);
  });

  test("when one of two platforms disconnects, the user stays online on the other", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go unregisterClient",
        "server:internal/msggateway/user_map.go DeleteClients",
      ],
    },
  }, async () => {
    // server: ws_server.go unregisterClient deletes only that client (user_map.go DeleteClients)
    const u = await stack.user(3);
    const mobile = await onPlatform(u, 2);
    const pc = await stack.connect(u, oneInstance);
    await stack.connect(mobile, oneInstance);
    await becomes(u.userID, (x) => x.detailPlatformStatus.length === 2);
    await pc.close();
    const s = await becomes(u.userID, (x) => x.detailPlatformStatus.length === 1);
    expect(s.status).toBe(1);
    expect(platformsOf(s)).toEqual([2]);
  });

  test("2004 setBackground flips isBackground in the status, and back", {
    meta: {
      source: ["server:internal/msggateway/client.go setAppBackgroundStatus", "docs/openim-protocol.md §1"],
    },
  }, async () => {
    const u = await stack.user(1);
    const c = await stack.connect(u);
    await becomes(u.userID, (x) => x.status === 1);
    await c.setBackground(true);
    expect((await statusOf(u.userID)).detailPlatformStatus[0]?.isBackground).toBe(true);
    await c.setBackground(false);
    expect((await statusOf(u.userID)).detailPlatformStatus[0]?.isBackground).toBe(false);
  });

  test("isBackground=true in the upgrade query has no effect: the connection starts in the foreground", {
    meta: { source: ["server:internal/msggateway/client.go ResetClient", "docs/openim-protocol.md §1"] },
  }, async () => {
    // docs/openim-protocol.md §1 isBackground — server: client.go ResetClient overwrites it with false (v3.8.3)
    const u = await stack.user();
    await rawConnect(stack.endpoints.openimWs, gatewayQuery(u, { isBackground: "true" }));
    const s = await becomes(u.userID, (x) => x.status === 1);
    expect(s.detailPlatformStatus[0]?.isBackground).toBe(false);
  });

  test("a user token cannot ask for online status: 1002 'only app manager'", {
    meta: {
      source: ["server:internal/msggateway/hub_server.go GetUsersOnlineStatus", "docs/openim-protocol.md §3"],
    },
  }, async () => {
    // docs/openim-protocol.md §3 "Admin only (gateway returns 1002 otherwise)" — server: hub_server.go GetUsersOnlineStatus
    const u = await stack.user();
    const err = await stack.rest
      .call("user/get_users_online_status", { userIDs: [u.userID] }, { token: u.token })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenImError);
    expect(err).toMatchObject({ errCode: 1002, errMsg: expect.stringContaining("only app manager") });
  });
});

describe("status after kicks and logouts", () => {
  test("after a same-platform re-login the user is still online, with only the new connection listed", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go registerClient",
        "server:internal/msggateway/ws_server.go multiTerminalLoginChecker",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async (ctx) => {
    stack.requiresMultiLogin(ctx, 1);
    // server: ws_server.go registerClient → multiTerminalLoginChecker deletes the old client
    const u = await stack.user(3);
    await stack.connect(u);
    const before = await becomes(u.userID, (x) => x.status === 1);
    await stack.connect(u);
    const after = await becomes(
      u.userID,
      (x) =>
        x.detailPlatformStatus.length === 1 &&
        x.detailPlatformStatus[0]?.connID !== before.detailPlatformStatus[0]?.connID,
    );
    expect(after.status).toBe(1);
  });

  test("auth/force_logout sends 2002, closes the socket without a close frame, makes the user offline and kills the token (1506)", {
    meta: {
      source: [
        "server:internal/rpc/auth/auth.go forceKickOff",
        "server:internal/msggateway/hub_server.go KickUserOffline",
        "server:internal/msggateway/client.go KickOnlineMessage",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 auth/force_logout — server: internal/rpc/auth/auth.go forceKickOff, msggateway KickUserOffline
    const u = await stack.user(3);
    const c = await stack.connect(u);
    await becomes(u.userID, (x) => x.status === 1);
    const kicked = new Promise<void>((r) => c.once("kicked", () => r()));
    const gone = closed(c);
    await forceLogout(stack.rest, stack.adminToken, u.userID, 3);
    await kicked;
    expect(await gone).toMatchObject({ code: 1006, wasKicked: true });
    await becomes(u.userID, (x) => x.status === 0);
    await expect(stack.connect(u)).rejects.toMatchObject({ errCode: 1506 });
  });

  test("force_logout of one platform leaves the user's other platform online", {
    meta: {
      source: [
        "server:internal/rpc/auth/auth.go forceKickOff",
        "server:internal/msggateway/hub_server.go KickUserOffline",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: msggateway KickUserOffline is per user+platform (hub_server.go), auth.go forceKickOff
    const u = await stack.user(3);
    const mobile = await onPlatform(u, 2);
    const pc = await stack.connect(u, oneInstance);
    const phone = await stack.connect(mobile, oneInstance);
    await becomes(u.userID, (x) => x.detailPlatformStatus.length === 2);
    const gone = closed(pc);
    await forceLogout(stack.rest, stack.adminToken, u.userID, 3);
    await gone;
    const s = await becomes(u.userID, (x) => x.detailPlatformStatus.length === 1);
    expect(platformsOf(s)).toEqual([2]);
    expect((await phone.getNewestSeq()).maxSeqs).toEqual({});
  });

  test("2003 logout makes the user offline, yet the token stays valid for a new connection", {
    meta: {
      source: [
        "server:internal/msggateway/message_handler.go UserLogout",
        "server:internal/msggateway/client.go replyMessage",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: message_handler.go UserLogout only deletes the push token (push.DelUserPushToken); no token state change
    const u = await stack.user(3);
    const c = await stack.connect(u);
    await becomes(u.userID, (x) => x.status === 1);
    await c.logout();
    await becomes(u.userID, (x) => x.status === 0);
    await stack.connect(u);
    await becomes(u.userID, (x) => x.status === 1);
  });
});

describe("subscriptions (2005)", () => {
  test("the 2005 answer lists every requested user; an offline one with no platforms", {
    meta: {
      source: [
        "server:internal/msggateway/subscription.go SubUserOnlineStatus",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 reqIdentifier 2005 — server: subscription.go SubUserOnlineStatus (online cache lookup)
    const [watcher, offline, other] = await stack.newUsers(3);
    const w = await stack.connect(watcher);
    const answer = await w.subscribeOnlineStatus([offline.userID, other.userID]);
    expect(answer).toEqual([
      { userID: offline.userID, onlinePlatformIDs: [] },
      { userID: other.userID, onlinePlatformIDs: [] },
    ]);
  });

  test("the 2005 answer shows an online user's platform once the online cache has it", {
    meta: {
      source: [
        "server:internal/msggateway/subscription.go SubUserOnlineStatus",
        "server:internal/msggateway/online.go ChangeOnlineStatus",
        "server:pkg/rpccache/online.go OnlineCache",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: subscription.go SubUserOnlineStatus reads rpccache OnlineCache, fed by online.go ChangeOnlineStatus
    // (merged every 1 s), so right after a connect the answer can still be empty (observed)
    const [watcher, target] = await stack.newUsers(2);
    const w = await stack.connect(watcher);
    await stack.connect(target);
    let last: SdkWsProto.SubUserOnlineStatusElem[] = [];
    const seen = await eventually(
      async () => {
        last = await w.subscribeOnlineStatus([target.userID]);
        return last[0]?.onlinePlatformIDs.includes(3) ?? false;
      },
      5_000,
      200,
    );
    expect(seen, JSON.stringify(last)).toBe(true);
  });

  test("a subscriber is pushed 2005 when the user connects, and again with no platforms when it disconnects", {
    meta: {
      source: [
        "server:internal/msggateway/online.go ChangeOnlineStatus",
        "server:internal/msggateway/subscription.go pushUserIDOnlineStatus",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: online.go ChangeOnlineStatus → user RPC → online cache subscriber → subscription.go pushUserIDOnlineStatus
    const [watcher, target] = await stack.newUsers(2);
    const w = await stack.connect(watcher);
    await w.subscribeOnlineStatus([target.userID]);
    const online = statusPush(w, target.userID, (p) => p.includes(3));
    const t = await stack.connect(target);
    expect(await online).toEqual([3]);
    const offline = statusPush(w, target.userID, (p) => p.length === 0);
    await t.close();
    expect(await offline).toEqual([]);
  });

  test("a 2005 push lists all the user's online platforms, not just the one that changed", {
    meta: {
      source: [
        "server:internal/msggateway/subscription.go pushUserIDOnlineStatus",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: subscription.go pushUserIDOnlineStatus sends OnlinePlatformIDs for the user as a whole
    const [watcher, target] = await stack.newUsers(2, 3);
    const mobile = await onPlatform(target, 2);
    const w = await stack.connect(watcher);
    await w.subscribeOnlineStatus([target.userID]);
    const first = statusPush(w, target.userID, (p) => p.length === 1);
    await stack.connect(target);
    expect(await first).toEqual([3]);
    const both = statusPush(w, target.userID, (p) => p.length === 2);
    await stack.connect(mobile);
    expect([...(await both)].sort()).toEqual([2, 3]);
  });

  test("a subscriber sees a force-logged-out user go offline", {
    meta: {
      source: [
        "server:internal/rpc/auth/auth.go forceKickOff",
        "server:internal/msggateway/subscription.go pushUserIDOnlineStatus",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: auth.go forceKickOff → gateway unregister → online.go → subscription.go pushUserIDOnlineStatus
    const [watcher, target] = await stack.newUsers(2);
    const w = await stack.connect(watcher);
    await w.subscribeOnlineStatus([target.userID]);
    const online = statusPush(w, target.userID, (p) => p.length > 0);
    await stack.connect(target);
    await online;
    const offline = statusPush(w, target.userID, (p) => p.length === 0);
    await forceLogout(stack.rest, stack.adminToken, target.userID, 3);
    expect(await offline).toEqual([]);
  });

  test("after unsubscribing, a connection gets no more 2005 pushes while another subscriber still does", {
    meta: {
      source: [
        "server:internal/msggateway/subscription.go Sub",
        "server:internal/msggateway/subscription.go pushUserIDOnlineStatus",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: subscription.go Sub (unsubscribeUserID) — pushUserIDOnlineStatus writes to every current subscriber in one pass
    const [quitter, stayer, target] = await stack.newUsers(3);
    const q = await stack.connect(quitter);
    const s = await stack.connect(stayer);
    const heardByQuitter: string[] = [];
    q.on("online-status", (users) => heardByQuitter.push(...users.map((u) => u.userID)));
    await q.subscribeOnlineStatus([target.userID]);
    expect(await q.subscribeOnlineStatus([], [target.userID])).toEqual([]);
    await s.subscribeOnlineStatus([target.userID]);
    const pushed = statusPush(s, target.userID, (p) => p.includes(3));
    await stack.connect(target);
    await pushed;
    await q.getNewestSeq(); // a round trip after the push pass: anything meant for q is in by now
    expect(heardByQuitter).toEqual([]);
  });
});

describe("across message-gateway instances", () => {
  test("a user's platforms on two instances: get_users_online_status lists only one instance's platform, the other once that one closes (finding)", {
    meta: {
      source: [
        "server:internal/api/user.go GetUsersOnlineStatus",
        "server:internal/msggateway/hub_server.go GetUsersOnlineStatus",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async (ctx) => {
    // server: api/user.go GetUsersOnlineStatus asks every instance, then for each user takes the
    // first instance's answer that names it and `break`s: platforms held by later instances are
    // dropped, so a user online on two instances shows one platform, not two.
    const [first, second] = gatewayInstances(ctx, stack.endpoints, 2);
    const [u, other] = await stack.newUsers(2);
    const mobile = await onPlatform(u, 2);
    const pc = await stack.connect(u, { wsUrl: first });
    const phone = await stack.connect(mobile, { wsUrl: second });
    // A push reaching both sockets proves each instance has registered its socket.
    const sender = await stack.connect(other, { wsUrl: first });
    const arrivals = [pc, phone].map((c) => nextPush(c, (m) => m.sendID === other.userID));
    await sender.sendText({ recvID: u.userID, text: "are you there" });
    await Promise.all(arrivals);
    const s = await becomes(u.userID, (x) => x.status === 1);
    expect(s.detailPlatformStatus).toHaveLength(1);
    const listed = s.detailPlatformStatus[0]?.platformID;
    expect([2, 3]).toContain(listed);
    await (listed === 3 ? pc : phone).close();
    const after = await becomes(u.userID, (x) => x.detailPlatformStatus[0]?.platformID !== listed);
    expect(platformsOf(after)).toEqual([listed === 3 ? 2 : 3]);
  });
});
