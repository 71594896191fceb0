import { describe, expect, test } from "vitest";
import { decodeText, getUserToken, singleConversationID } from "../src/protocol/index.js";
import { closed, nextPush } from "./support/fixtures.js";
import { allOf, at } from "./support/lists.js";
import { gatewayQuery, rawConnect } from "./support/raw-ws.js";
import { useStack } from "./support/stack.js";
import { newestSettled, pullSettled } from "./support/sync.js";
import { getMaxSeq, nextSecond } from "./support/websocket.js";

// Suite `websocket-sessions`: a user's connections over time — reconnect and catch-up by seq,
// and what multi-login does to a second connection or a newer token.
// Facts: docs/openim-protocol.md §1, §2; server: internal/msggateway/ws_server.go, internal/rpc/msg/sync_msg.go (v3.8.3).
const stack = useStack();

/** OpenIM's message gateway without nginx in front: its own multi-login answers. */
const direct = () => stack.endpoints.openimWs;

describe("reconnect and catch-up by seq", () => {
  test("a client that reconnects finds what it missed: 1001 shows the new max seq and 1002 from its last seq returns the rest", {
    meta: {
      source: [
        "server:internal/rpc/msg/sync_msg.go GetMaxSeq",
        "server:internal/rpc/msg/sync_msg.go PullMessageBySeqs",
        "sdk:internal/interaction/msg_sync.go",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 GetMaxSeq/PullMessageBySeqs — server: internal/rpc/msg/sync_msg.go; sdk: msg_sync.go
    const [a, b] = await stack.newUsers(2);
    const conversationID = singleConversationID(a.userID, b.userID);
    const sender = await stack.connect(a);
    const first = await stack.connect(b);
    const arrived = nextPush(first, (m) => decodeText(m) === "before");
    await sender.sendText({ recvID: b.userID, text: "before" });
    const lastSeen = Number((await arrived).seq);
    await first.close();

    await sender.sendText({ recvID: b.userID, text: "missed 1" });
    await sender.sendText({ recvID: b.userID, text: "missed 2" });
    // seq is assigned in msgtransfer, 60–580 ms after the ack (observed)
    expect((await newestSettled(sender, conversationID, lastSeen + 2)).maxSeqs[conversationID]).toBe(
      lastSeen + 2,
    );

    const again = await stack.connect(b);
    const newest = await newestSettled(again, conversationID, lastSeen + 2);
    expect(newest.maxSeqs[conversationID]).toBe(lastSeen + 2);
    const pulled = await pullSettled(again, [{ conversationID, begin: lastSeen + 1, end: lastSeen + 2 }], 2);
    expect(pulled.messages.map((m) => [Number(m.seq), decodeText(m)])).toEqual([
      [lastSeen + 1, "missed 1"],
      [lastSeen + 2, "missed 2"],
    ]);
    expect(pulled.isEnd[conversationID]).toBe(true);
  });

  test("after the server drops the socket, OpenImWsClient reconnects and catches up the missed seqs", {
    meta: {
      source: [
        "server:internal/msggateway/client.go handleMessage",
        "server:internal/rpc/msg/sync_msg.go PullMessageBySeqs",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // ws-client.ts reconnect/catchUp against the real server: the drop is a malformed frame (client.go handleMessage)
    const [a, b] = await stack.newUsers(2);
    const conversationID = singleConversationID(a.userID, b.userID);
    const sender = await stack.connect(a);
    const receiver = await stack.connect(b, { reconnect: { initialDelayMs: 3_000, maxAttempts: 3 } });
    const got: Array<[number, string | undefined, string]> = [];
    receiver.on("push", (msgs, source) => {
      for (const m of msgs) got.push([Number(m.seq), decodeText(m), source]);
    });
    const first = nextPush(receiver, (m) => decodeText(m) === "m0");
    await sender.sendText({ recvID: b.userID, text: "m0" });
    await first;

    const reconnecting = new Promise<{ code: number }>((r) => receiver.once("reconnecting", r));
    const reconnected = new Promise<{ caughtUp: number }>((r) => receiver.once("reconnected", r));
    receiver.sendRawFrame(new Uint8Array([0x7b]), true);
    expect((await reconnecting).code).toBe(1006);
    // while it waits (≥1.5 s) two messages are sent and get their seqs
    await sender.sendText({ recvID: b.userID, text: "m1" });
    await sender.sendText({ recvID: b.userID, text: "m2" });
    expect((await newestSettled(sender, conversationID, 3)).maxSeqs[conversationID]).toBe(3);
    expect((await reconnected).caughtUp).toBe(2);
    expect(got).toEqual([
      [1, "m0", "push"],
      [2, "m1", "catch-up"],
      [3, "m2", "catch-up"],
    ]);
  });
});

describe("multi-login", () => {
  test("a second connection on the same platform gets the first a 2002 frame and closes it (1006); the second stays", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go multiTerminalLoginChecker",
        "server:internal/msggateway/client.go KickOnlineMessage",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async (ctx) => {
    stack.requiresMultiLogin(ctx, 1);
    // docs/openim-protocol.md §1 Multi-login — server: ws_server.go registerClient → multiTerminalLoginChecker
    // (AllLoginButSameTermKick), client.go KickOnlineMessage
    const u = await stack.user(3);
    const first = await rawConnect(direct(), gatewayQuery(u));
    const second = await rawConnect(direct(), gatewayQuery(u));
    const info = await first.closedWithin(5_000);
    expect(info.code).toBe(1006);
    expect(first.frames).toHaveLength(1);
    expect(JSON.parse(at(first.frames, 0).data.toString("utf8"))).toEqual({
      reqIdentifier: 2002,
      msgIncr: "",
      operationID: "",
      errCode: 0,
      errMsg: "",
      data: null,
    });
    expect((await second.request(getMaxSeq(u))).errCode).toBe(0);
  });

  test("a newer token leaves the live socket up until it is used; then the old socket is kicked and its token answers 1506", {
    meta: {
      source: [
        "server:pkg/common/storage/controller/auth.go CreateToken",
        "server:internal/msggateway/ws_server.go registerClient",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async (ctx) => {
    stack.requiresMultiLogin(ctx, 1);
    // server: controller/auth.go CreateToken marks the old token kicked in Redis, but only
    // registerClient (ws_server.go) drops a live connection
    const u = await stack.user(3);
    const old = await stack.connect(u);
    await nextSecond();
    const newer = await getUserToken(stack.rest, stack.adminToken, u.userID, 3);
    expect((await old.getNewestSeq()).maxSeqs).toEqual({});
    const kicked = closed(old);
    await stack.connect({ ...u, token: newer.token });
    expect(await kicked).toMatchObject({ code: 1006, wasKicked: true });
    await expect(stack.connect(u)).rejects.toMatchObject({ errCode: 1506 });
  });

  test("connections on Windows (3), Android (2) and Web (5) coexist and each receives the push", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go multiTerminalLoginChecker",
        "server:internal/msggateway/hub_server.go pushToUser",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async (ctx) => {
    stack.requiresMultiLogin(ctx, 0, 1);
    const [u, peer] = await stack.newUsers(2, 3);
    const tokens = await allOf([2, 5], (p) => getUserToken(stack.rest, stack.adminToken, u.userID, p));
    const conns = [
      await stack.connect(u),
      await stack.connect({ ...u, token: tokens[0].token, platformID: 2 }),
      await stack.connect({ ...u, token: tokens[1].token, platformID: 5 }),
    ];
    const arrivals = conns.map((c) => nextPush(c, (m) => decodeText(m) === "to every device"));
    const sender = await stack.connect(peer);
    await sender.sendText({ recvID: u.userID, text: "to every device" });
    const seqs = (await Promise.all(arrivals)).map((m) => Number(m.seq));
    expect(seqs).toEqual([1, 1, 1]);
    expect(conns.every((c) => c.isOpen)).toBe(true);
  });

  test("two PC-class platforms (Windows 3, macOS 4) coexist: policy 1 kicks by platformID, not by class", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go multiTerminalLoginChecker",
        "proto:constant/constant.go AllLoginButSameTermKick",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async (ctx) => {
    stack.requiresMultiLogin(ctx, 1);
    // proto: constant.AllLoginButSameTermKick vs AllLoginButSameClassKick (4) — server: multiTerminalLoginChecker
    const u = await stack.user(3);
    const osx = await getUserToken(stack.rest, stack.adminToken, u.userID, 4);
    const win = await stack.connect(u);
    const mac = await stack.connect({ ...u, token: osx.token, platformID: 4 });
    // a round trip on each proves neither was kicked by the other's registration
    await Promise.all([win.getNewestSeq(), mac.getNewestSeq()]);
    expect(win.isOpen && mac.isOpen).toBe(true);
  });

  test("with multiLoginPolicy 0 two connections on one platform coexist", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go multiTerminalLoginChecker",
        "proto:constant/constant.go DefalutNotKick",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async (ctx) => {
    stack.requiresMultiLogin(ctx, 0);
    const u = await stack.user(3);
    const first = await stack.connect(u);
    const second = await stack.connect(u);
    await Promise.all([first.getNewestSeq(), second.getNewestSeq()]);
    expect(first.isOpen && second.isOpen).toBe(true);
  });
});
