import { PbCoder } from "@openim/protocol";
import { describe, expect, test } from "vitest";
import {
  buildTextMsg,
  decodeText,
  encodeRequestFrame,
  encodeTextContent,
  getUserToken,
  type MsgData,
  newOperationID,
  OpenImError,
  OpenImTransportError,
  type OpenImWsClient,
  type ReceivedMsg,
  singleConversationID,
} from "../src/protocol/index.js";
import { closed, eventually, inbox, nextPush, type TestUser } from "./support/fixtures.js";
import { gatewayInstances } from "./support/gateway-instances.js";
import { at } from "./support/lists.js";
import { useStack } from "./support/stack.js";
import { newestSettled, pullSettled } from "./support/sync.js";

// Suite `messaging`: single chat over the WebSocket — send (1003), ack, push (2001), seq
// per conversation, pull (1001/1002), offline delivery, content fidelity, refusals.
// Facts: docs/openim-protocol.md §2; server: internal/rpc/msg/send.go, verify.go, sync_msg.go,
// internal/msgtransfer, internal/push (v3.8.3).
const stack = useStack();

/** Two fresh users, both connected through nginx. */
async function pair(): Promise<{ a: TestUser; b: TestUser; ca: OpenImWsClient; cb: OpenImWsClient }> {
  const [a, b] = await stack.newUsers(2);
  const [ca, cb] = await Promise.all([stack.connect(a), stack.connect(b)]);
  return { a, b, ca, cb };
}

/** A text MsgData from `from` to `to`, for cases that change fields the client would set. */
const textMsg = (from: TestUser, to: string, text: string): MsgData =>
  buildTextMsg({ sendID: from.userID, senderPlatformID: from.platformID, recvID: to, text });

const seqsOf = (msgs: ReceivedMsg[]) => msgs.map((m) => Number(m.seq));

describe("send, ack and push", () => {
  test("a text sent over the WebSocket through nginx reaches the receiver with seq, sender and content", {
    meta: {
      source: [
        "server:internal/push/push_handler.go handleMs2PsChat",
        "server:internal/msggateway/client.go PushMessage",
        "server:pkg/common/storage/controller/msg_transfer.go BatchInsertChat2Cache",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // foundation wire test — docs/openim-protocol.md §2 Push frame 2001; server: push/push_handler.go handleMs2PsChat
    const { a, b, ca, cb } = await pair();
    const text = `hello ${b.userID} ✓ — ünïcode`;
    const arrival = nextPush(cb, (m) => m.sendID === a.userID);
    const ack = await ca.sendText({ recvID: b.userID, text });
    const pushed = await arrival;
    expect(pushed).toMatchObject({
      sendID: a.userID,
      recvID: b.userID,
      clientMsgID: ack.clientMsgID,
      serverMsgID: ack.serverMsgID,
      sessionType: 1,
      contentType: 101,
      conversationID: singleConversationID(a.userID, b.userID),
    });
    expect(decodeText(pushed)).toBe(text);
    // The first message of a new conversation gets seq 1 (msgtransfer allocates per conversation).
    expect(Number(pushed.seq)).toBe(1);
  });

  test("the ack (1003) carries a 32-hex serverMsgID, the clientMsgID sent and the server's sendTime", {
    meta: {
      source: [
        "server:internal/rpc/msg/verify.go encapsulateMsgData",
        "server:internal/rpc/msg/send.go SendMsg",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 Response to 1003 — server: msg/verify.go encapsulateMsgData (GetMsgID md5), send.go
    const { b, ca } = await pair();
    const before = Date.now();
    const ack = await ca.sendText({ recvID: b.userID, text: "ack me", clientMsgID: "client-chosen-id-1" });
    expect(ack.serverMsgID).toMatch(/^[0-9a-f]{32}$/);
    expect(ack.clientMsgID).toBe("client-chosen-id-1");
    expect(ack.sendTime).toBeGreaterThanOrEqual(before - 1_000);
    expect(ack.sendTime).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  test("the pushed copy is marked sent (status 2) and keeps msgFrom, senderPlatformID and createTime; sendTime is the ack's", {
    meta: {
      source: [
        "server:internal/rpc/msg/verify.go encapsulateMsgData",
        "server:pkg/common/storage/controller/msg_transfer.go MsgStatusSendSuccess",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // server: msg/verify.go encapsulateMsgData (sendTime when 0), msgtransfer sets status SendSuccess(2)
    const { a, b, ca, cb } = await pair();
    const msg = textMsg(a, b.userID, "fields");
    msg.createTime = 1_700_000_000_123;
    const arrival = nextPush(cb, (m) => m.clientMsgID === msg.clientMsgID);
    const ack = await ca.sendMessage(msg);
    expect(await arrival).toMatchObject({
      status: 2,
      msgFrom: 100,
      senderPlatformID: 3,
      createTime: 1_700_000_000_123,
      sendTime: ack.sendTime,
    });
  });

  test("a non-zero sendTime from the client is kept, while a client-chosen serverMsgID is overwritten", {
    meta: { source: ["server:internal/rpc/msg/verify.go encapsulateMsgData", "docs/openim-protocol.md §2"] },
  }, async () => {
    const { a, b, ca, cb } = await pair();
    const msg = textMsg(a, b.userID, "backdated");
    msg.sendTime = 1_600_000_000_000;
    msg.serverMsgID = "chosen-by-client";
    const arrival = nextPush(cb, (m) => m.clientMsgID === msg.clientMsgID);
    const ack = await ca.sendMessage(msg);
    expect(ack.sendTime).toBe(1_600_000_000_000);
    expect(ack.serverMsgID).not.toBe("chosen-by-client");
    expect(await arrival).toMatchObject({ sendTime: 1_600_000_000_000, serverMsgID: ack.serverMsgID });
  });

  test("the sender's own connection also receives its message, with the receiver's seq and serverMsgID", {
    meta: { source: ["server:internal/push/push_handler.go handleMs2PsChat", "docs/openim-protocol.md §2"] },
  }, async () => {
    // docs/openim-protocol.md §2 "Who receives it" — server: push/push_handler.go handleMs2PsChat (senderSync default true)
    const { a, b, ca, cb } = await pair();
    const atReceiver = nextPush(cb, (m) => decodeText(m) === "echo");
    const atSender = nextPush(ca, (m) => decodeText(m) === "echo");
    const ack = await ca.sendText({ recvID: b.userID, text: "echo" });
    const [r, s] = await Promise.all([atReceiver, atSender]);
    expect(s).toMatchObject({ serverMsgID: ack.serverMsgID, seq: r.seq, conversationID: r.conversationID });
    expect(s.sendID).toBe(a.userID);
  });

  test("the sender's other device (another platform) gets the message it sent", {
    meta: {
      source: [
        "server:internal/push/push_handler.go handleMs2PsChat",
        "server:internal/msggateway/hub_server.go pushToUser",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // server: push_handler.go handleMs2PsChat pushes to sendID's connections; hub_server.go pushToUser (all platforms)
    const [a, b] = await stack.newUsers(2);
    const phone = await getUserToken(stack.rest, stack.adminToken, a.userID, 2);
    const desk = await stack.connect(a);
    const mobile = await stack.connect({ ...a, token: phone.token, platformID: 2 });
    await stack.connect(b);
    const onMobile = nextPush(mobile, (m) => decodeText(m) === "from my desk");
    const ack = await desk.sendText({ recvID: b.userID, text: "from my desk" });
    expect(await onMobile).toMatchObject({
      serverMsgID: ack.serverMsgID,
      sendID: a.userID,
      senderPlatformID: 3,
    });
  });

  test("with options.senderSync=false the receiver gets the message and the sender's connection does not", {
    meta: {
      source: [
        "server:internal/push/push_handler.go handleMs2PsChat",
        "server:pkg/msgprocessor/options.go IsSenderSync",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // server: push_handler.go handleMs2PsChat — the sender is added only if IsSenderSync (msgprocessor/options.go)
    const { a, b, ca, cb } = await pair();
    const atSender = inbox(ca);
    const msg = buildTextMsg({
      sendID: a.userID,
      senderPlatformID: 3,
      recvID: b.userID,
      text: "not for me",
      options: { senderSync: false },
    });
    const atReceiver = nextPush(cb, (m) => m.clientMsgID === msg.clientMsgID);
    await ca.sendMessage(msg);
    expect((await atReceiver).options).toMatchObject({ senderSync: false });
    // A later message in the same conversation does come back: once it is here, the first would be too.
    const marker = nextPush(ca, (m) => decodeText(m) === "marker");
    await ca.sendText({ recvID: b.userID, text: "marker" });
    await marker;
    expect(atSender.map(decodeText)).toEqual(["marker"]);
  });

  test("a receiver on two platforms gets the push on both, with one seq", {
    meta: { source: ["server:internal/msggateway/hub_server.go pushToUser", "docs/openim-protocol.md §2"] },
  }, async () => {
    const [a, b] = await stack.newUsers(2);
    const mobile = await getUserToken(stack.rest, stack.adminToken, b.userID, 2);
    const sender = await stack.connect(a);
    const pc = await stack.connect(b);
    const phone = await stack.connect({ ...b, token: mobile.token, platformID: 2 });
    const arrivals = [pc, phone].map((c) => nextPush(c, (m) => decodeText(m) === "both"));
    await sender.sendText({ recvID: b.userID, text: "both" });
    expect(seqsOf(await Promise.all(arrivals))).toEqual([1, 1]);
  });
});

describe("seq per conversation", () => {
  test("the newest seq (1001) and a pull by seq (1002) agree with what was pushed", {
    meta: {
      source: [
        "server:internal/rpc/msg/sync_msg.go GetMaxSeq",
        "server:internal/rpc/msg/sync_msg.go PullMessageBySeqs",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // foundation wire test — docs/openim-protocol.md §2 GetMaxSeq, PullMessageBySeqs; server: msg/sync_msg.go
    const { a, b, ca, cb } = await pair();
    const conversationID = singleConversationID(a.userID, b.userID);
    const sent: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const arrival = nextPush(cb, (m) => decodeText(m) === `msg ${i}`);
      await ca.sendText({ recvID: b.userID, text: `msg ${i}` });
      await arrival;
      sent.push(`msg ${i}`);
    }
    const newest = await newestSettled(cb, conversationID, 3);
    expect(newest.maxSeqs[conversationID]).toBe(3);

    const pulled = await pullSettled(cb, [{ conversationID, begin: 1, end: 3 }], 3);
    const inConversation = pulled.messages.filter((m) => m.conversationID === conversationID);
    expect(seqsOf(inConversation)).toEqual([1, 2, 3]);
    expect(inConversation.map(decodeText)).toEqual(sent);
    expect(pulled.isEnd[conversationID]).toBe(true);
  });

  test("twenty messages get seqs 1..20 with no gap, pushed in order, and 1002 returns the same twenty", {
    meta: {
      source: [
        "server:pkg/common/storage/controller/msg_transfer.go BatchInsertChat2Cache",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 Seq assignment — server: controller/msg_transfer.go BatchInsertChat2Cache (Malloc per conversation)
    const { a, b, ca, cb } = await pair();
    const conversationID = singleConversationID(a.userID, b.userID);
    const got = inbox(cb);
    for (let i = 1; i <= 20; i++) await ca.sendText({ recvID: b.userID, text: `n${i}` });
    expect(await eventually(() => got.length >= 20, 10_000)).toBe(true);
    const expected = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(seqsOf(got)).toEqual(expected);
    expect(got.map(decodeText)).toEqual(expected.map((i) => `n${i}`));
    expect((await newestSettled(cb, conversationID, 20)).maxSeqs[conversationID]).toBe(20);
    const pulled = await pullSettled(cb, [{ conversationID, begin: 1, end: 20 }], 20);
    expect(seqsOf(pulled.messages)).toEqual(expected);
    expect(pulled.messages.map((m) => m.serverMsgID)).toEqual(got.map((m) => m.serverMsgID));
  });

  test("messages sent back-to-back without waiting for acks keep their send order in seq and in the pushes", {
    meta: {
      source: [
        "server:internal/msggateway/client.go readMessage",
        "server:internal/msgtransfer/online_history_msg_handler.go handleMsg",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // server: client.go readMessage handles one connection's frames one at a time; msgtransfer keys Kafka by conversation
    const { b, ca, cb } = await pair();
    const got = inbox(cb);
    const texts = Array.from({ length: 10 }, (_, i) => `burst ${i}`);
    const acks = await Promise.all(texts.map((text) => ca.sendText({ recvID: b.userID, text })));
    expect(await eventually(() => got.length >= 10, 10_000)).toBe(true);
    expect(got.map(decodeText)).toEqual(texts);
    expect(seqsOf(got)).toEqual(texts.map((_, i) => i + 1));
    expect(got.map((m) => m.serverMsgID)).toEqual(acks.map((a) => a.serverMsgID));
  });

  test("both directions share one seq sequence: alternating A→B and B→A give 1..6 in one si_ conversation", {
    meta: {
      source: [
        "server:pkg/msgprocessor/conversation.go GetConversationIDByMsg",
        "server:pkg/common/storage/controller/msg_transfer.go BatchInsertChat2Cache",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 Conversation ID formats (sorted pair) and Seq assignment
    const { a, b, ca, cb } = await pair();
    const got = inbox(cb);
    for (let i = 0; i < 6; i++) {
      const [from, to] = i % 2 === 0 ? [ca, b.userID] : [cb, a.userID];
      const arrival = nextPush(cb, (m) => decodeText(m) === `turn ${i}`);
      await from.sendText({ recvID: to, text: `turn ${i}` });
      await arrival;
    }
    expect(seqsOf(got)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(got.map((m) => m.conversationID))).toEqual(
      new Set([singleConversationID(a.userID, b.userID)]),
    );
  });

  test("seq is counted per conversation: after five messages to B, A's first message to C is seq 1", {
    meta: {
      source: [
        "server:pkg/common/storage/controller/msg_transfer.go BatchInsertChat2Cache",
        "server:internal/rpc/msg/sync_msg.go GetMaxSeq",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // server: controller/msg_transfer.go BatchInsertChat2Cache — seqConversation.Malloc(conversationID, n)
    const [a, b, c] = await stack.newUsers(3);
    const ca = await stack.connect(a);
    const cb = await stack.connect(b);
    const cc = await stack.connect(c);
    const toB = inbox(cb);
    for (let i = 0; i < 5; i++) await ca.sendText({ recvID: b.userID, text: `b${i}` });
    expect(await eventually(() => toB.length >= 5)).toBe(true);
    const arrival = nextPush(cc, (m) => decodeText(m) === "c0");
    await ca.sendText({ recvID: c.userID, text: "c0" });
    expect(Number((await arrival).seq)).toBe(1);
    expect((await newestSettled(ca, singleConversationID(a.userID, c.userID), 1)).maxSeqs).toEqual({
      [singleConversationID(a.userID, b.userID)]: 5,
      [singleConversationID(a.userID, c.userID)]: 1,
    });
  });

  test("1002 with num smaller than the range returns the last num seqs of it", {
    meta: {
      source: ["server:pkg/common/storage/controller/msg.go GetMsgBySeqsRange", "docs/openim-protocol.md §2"],
    },
  }, async () => {
    const { a, b, ca, cb } = await pair();
    const conversationID = singleConversationID(a.userID, b.userID);
    const got = inbox(cb);
    for (let i = 1; i <= 5; i++) await ca.sendText({ recvID: b.userID, text: `p${i}` });
    expect(await eventually(() => got.length >= 5)).toBe(true);
    const pulled = await pullSettled(cb, [{ conversationID, begin: 1, end: 5, num: 2 }], 2);
    expect(seqsOf(pulled.messages)).toEqual([4, 5]);
  });

  test("1002 beyond the newest seq, or for a conversation the user is not in, answers nothing and no error", {
    meta: {
      source: [
        "server:internal/rpc/msg/sync_msg.go PullMessageBySeqs",
        "server:pkg/common/storage/controller/msg.go GetMsgBySeqsRange",
        "docs/openim-protocol.md §2",
      ],
      provokes: ["GetConversation error"],
    },
  }, async () => {
    // docs/openim-protocol.md §2 PullMessageBySeqs — ranges without a conversation record are skipped: no error
    // for the client, one ERROR line ("GetConversation error") in OpenIM's log
    const [a, b, c] = await stack.newUsers(3);
    const ca = await stack.connect(a);
    const cb = await stack.connect(b);
    const outsider = await stack.connect(c);
    const conversationID = singleConversationID(a.userID, b.userID);
    const arrival = nextPush(cb, (m) => decodeText(m) === "private");
    await ca.sendText({ recvID: b.userID, text: "private" });
    await arrival;
    // the conversation is there for b (seq 1 pulls), yet nothing lies beyond its newest seq
    expect((await pullSettled(cb, [{ conversationID, begin: 1, end: 1 }], 1)).messages).toHaveLength(1);
    expect(await cb.pullBySeqs([{ conversationID, begin: 10, end: 20 }])).toEqual({
      messages: [],
      isEnd: {},
    });
    expect(await outsider.pullBySeqs([{ conversationID, begin: 1, end: 5 }])).toEqual({
      messages: [],
      isEnd: {},
    });
  });

  test("1006 reports the conversation's max seq to both sides, and hasReadSeq only for the sender", {
    meta: {
      source: [
        "server:internal/rpc/msg/as_read.go GetConversationsHasReadAndMaxSeq",
        "server:pkg/common/storage/controller/msg_transfer.go BatchInsertChat2Cache",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 Seq assignment (SetHasReadSeqs for the sender) — server: msg/as_read.go GetConversationsHasReadAndMaxSeq
    const { a, b, ca, cb } = await pair();
    const conversationID = singleConversationID(a.userID, b.userID);
    for (let i = 0; i < 3; i++) await ca.sendText({ recvID: b.userID, text: `r${i}` });
    expect((await newestSettled(cb, conversationID, 3)).maxSeqs[conversationID]).toBe(3);
    const seqs = async (c: OpenImWsClient) =>
      (await c.getConversationsMaxReadSeq([conversationID]))[conversationID];
    expect(await eventually(async () => (await seqs(ca))?.hasReadSeq === 3)).toBe(true);
    expect(await seqs(ca)).toMatchObject({ maxSeq: 3, hasReadSeq: 3 });
    expect(await seqs(cb)).toMatchObject({ maxSeq: 3, hasReadSeq: 0 });
  });
});

describe("resend and client message IDs", () => {
  test("resending the same clientMsgID is not deduplicated: two acks, two serverMsgIDs, two seqs, two deliveries", {
    meta: { source: ["server:internal/rpc/msg/send.go SendMsg", "docs/openim-protocol.md §2"] },
  }, async () => {
    // docs/openim-protocol.md §2 "no check that it is non-empty" / dedupe unconfirmed — observed: server: msg/send.go
    // has no clientMsgID lookup, so a retry after a lost ack is a second message
    const { a, b, ca, cb } = await pair();
    const conversationID = singleConversationID(a.userID, b.userID);
    const got = inbox(cb);
    const first = await ca.sendText({ recvID: b.userID, text: "retry", clientMsgID: "same-client-msg-id" });
    const second = await ca.sendText({ recvID: b.userID, text: "retry", clientMsgID: "same-client-msg-id" });
    expect(second.serverMsgID).not.toBe(first.serverMsgID);
    expect(await eventually(() => got.length >= 2)).toBe(true);
    expect(got.map((m) => [Number(m.seq), m.clientMsgID, m.serverMsgID])).toEqual([
      [1, "same-client-msg-id", first.serverMsgID],
      [2, "same-client-msg-id", second.serverMsgID],
    ]);
    const pulled = await pullSettled(cb, [{ conversationID, begin: 1, end: 10 }], 2);
    expect(pulled.messages.map((m) => m.clientMsgID)).toEqual(["same-client-msg-id", "same-client-msg-id"]);
  });

  test("an empty clientMsgID is accepted and delivered with the empty ID (the WS path does not generate one)", {
    meta: {
      source: [
        "server:internal/rpc/msg/send.go SendMsg",
        "proto:sdkws/sdkws.go MsgData",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 "The server does not generate clientMsgID on the WS path"
    const { b, ca, cb } = await pair();
    const arrival = nextPush(cb, (m) => decodeText(m) === "anonymous");
    const ack = await ca.sendText({ recvID: b.userID, text: "anonymous", clientMsgID: "" });
    expect(ack.clientMsgID).toBe("");
    expect(await arrival).toMatchObject({ clientMsgID: "", serverMsgID: ack.serverMsgID });
  });
});

describe("offline delivery", () => {
  test("messages to a user who has never connected wait in order: on connect 1001 shows them and 1002 pulls them", {
    meta: {
      source: [
        "server:internal/msgtransfer/online_history_msg_handler.go handleMsg",
        "server:internal/rpc/msg/sync_msg.go GetMaxSeq",
        "server:internal/rpc/msg/sync_msg.go PullMessageBySeqs",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 GetMaxSeq/PullMessageBySeqs; msgtransfer creates both conversation records on the first message
    const [a, b] = await stack.newUsers(2);
    const ca = await stack.connect(a);
    const conversationID = singleConversationID(a.userID, b.userID);
    const texts = ["while you were out 1", "while you were out 2", "while you were out 3"];
    for (const text of texts) await ca.sendText({ recvID: b.userID, text });
    expect((await newestSettled(ca, conversationID, 3)).maxSeqs[conversationID]).toBe(3);

    const cb = await stack.connect(b);
    expect((await newestSettled(cb, conversationID, 3)).maxSeqs).toEqual({ [conversationID]: 3 });
    const pulled = await pullSettled(cb, [{ conversationID, begin: 1, end: 3 }], 3);
    expect(pulled.messages.map((m) => [Number(m.seq), decodeText(m), m.sendID])).toEqual(
      texts.map((t, i) => [i + 1, t, a.userID]),
    );
    expect(pulled.isEnd[conversationID]).toBe(true);
  });

  test("a receiver that went offline mid-conversation pulls exactly the seqs after the last one it was pushed", {
    meta: {
      source: [
        "server:internal/msggateway/hub_server.go pushToUser",
        "server:internal/rpc/msg/sync_msg.go PullMessageBySeqs",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // server: push is online-only (hub_server.go pushToUser skips absent users); the store keeps every seq
    const [a, b] = await stack.newUsers(2);
    const ca = await stack.connect(a);
    const conversationID = singleConversationID(a.userID, b.userID);
    const first = await stack.connect(b);
    const seen = nextPush(first, (m) => decodeText(m) === "online");
    await ca.sendText({ recvID: b.userID, text: "online" });
    const last = Number((await seen).seq);
    await first.close();
    for (const text of ["gone 1", "gone 2"]) await ca.sendText({ recvID: b.userID, text });
    expect((await newestSettled(ca, conversationID, last + 2)).maxSeqs[conversationID]).toBe(last + 2);

    const back = await stack.connect(b);
    const pulled = await pullSettled(back, [{ conversationID, begin: last + 1, end: last + 2 }], 2);
    expect(pulled.messages.map(decodeText)).toEqual(["gone 1", "gone 2"]);
  });
});

describe("content", () => {
  /** The longest text whose 1003 request frame (JSON envelope, base64 protobuf) stays ≤ `maxFrame` bytes. */
  function textForFrame(from: TestUser, to: string, maxFrame: number): string {
    const frameSize = (n: number) =>
      encodeRequestFrame(
        {
          reqIdentifier: 1003,
          token: from.token,
          sendID: from.userID,
          operationID: newOperationID(),
          msgIncr: "99999",
          data: PbCoder.MsgData.encode(textMsg(from, to, "x".repeat(n))).finish(),
        },
        { gzip: false },
      ).length;
    let lo = 0;
    let hi = maxFrame;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (frameSize(mid) <= maxFrame) lo = mid;
      else hi = mid - 1;
    }
    return "x".repeat(lo);
  }

  test("a text whose request frame is just under the frame limit is accepted and delivered intact", {
    meta: {
      source: [
        "server:internal/msggateway/constant.go maxMessageSize",
        "docs/openim-protocol.md §1",
        "docs/openim-protocol.md §7",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Message size (51200 per frame) and §7 "no explicit limit on content size"
    const { a, b, ca, cb } = await pair();
    const text = textForFrame(a, b.userID, stack.profile.maxMessageSize - 64);
    expect(text.length).toBeGreaterThan(30_000); // base64 makes the frame ≈ 4/3 of the content
    const arrival = nextPush(cb, (m) => m.sendID === a.userID);
    await ca.sendText({ recvID: b.userID, text });
    expect(decodeText(await arrival)).toBe(text);
  });

  test("a text whose request frame exceeds the limit gets no ack: the server closes the sender's socket with 1009", {
    meta: {
      source: [
        "server:internal/msggateway/client.go readMessage",
        "server:internal/msggateway/constant.go maxMessageSize",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: msggateway/client.go readMessage SetReadLimit(maxMessageSize) → close 1009. Direct to OpenIM:
    // through nginx the close frame is sometimes lost and the client sees 1006 (websocket-handshake covers that)
    const [a, b] = await stack.newUsers(2);
    const ca = await stack.connect(a, { via: "direct" });
    const text = `${textForFrame(a, b.userID, stack.profile.maxMessageSize)}${"y".repeat(256)}`;
    const closing = closed(ca);
    const err = await ca.sendText({ recvID: b.userID, text }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenImTransportError);
    expect((err as OpenImTransportError).kind).toBe("closed");
    expect((await closing).code).toBe(1009);
  });

  test("emoji, RTL scripts, NUL and other hard Unicode arrive byte-for-byte, pushed and pulled", {
    meta: { source: ["proto:sdkws/sdkws.proto MsgData", "docs/openim-protocol.md §2"] },
  }, async () => {
    // docs/openim-protocol.md §2 Content JSON — content is opaque bytes (MsgData.content, proto bytes)
    const { a, b, ca, cb } = await pair();
    const text = [
      "👩‍👩‍👧‍👦 🇺🇦 🏳️‍🌈 𝕏", // ZWJ sequences, flags, astral plane
      "مرحبا بالعالم \u200f שלום עולם", // Arabic, RLM, Hebrew
      "nul:\u0000:end",
      "e\u0301 ñ Å", // combining marks vs precomposed
      "汉字 かな 한국어",
      "line\u2028sep\u2029para \ufeff bom",
      '"quotes" \\backslash\\ <tag> & {json}',
    ].join("\n");
    const arrival = nextPush(cb, (m) => m.sendID === a.userID);
    await ca.sendText({ recvID: b.userID, text });
    const pushed = await arrival;
    expect(decodeText(pushed)).toBe(text);
    expect(Buffer.from(pushed.content).equals(Buffer.from(encodeTextContent(text)))).toBe(true);
    const pulled = await pullSettled(cb, [{ conversationID: pushed.conversationID, begin: 1, end: 1 }], 1);
    expect(decodeText(at(pulled.messages, 0))).toBe(text);
  });

  test("content is carried as opaque bytes: a body that is not JSON (invalid UTF-8, NUL) arrives unchanged", {
    meta: {
      source: ["proto:sdkws/sdkws.proto MsgData", "docs/openim-protocol.md §2", "docs/openim-protocol.md §9"],
    },
  }, async () => {
    // docs/openim-protocol.md §9 Interop — the server accepts text content of any shape (no content validation on the WS path)
    const { a, b, ca, cb } = await pair();
    const msg = textMsg(a, b.userID, "");
    msg.content = Uint8Array.from([0xff, 0xfe, 0x00, 0x41, 0xc3, 0x28]);
    const arrival = nextPush(cb, (m) => m.clientMsgID === msg.clientMsgID);
    await ca.sendMessage(msg);
    expect([...(await arrival).content]).toEqual([0xff, 0xfe, 0x00, 0x41, 0xc3, 0x28]);
  });
});

describe("conversation IDs", () => {
  test("a single chat is filed under si_<lower>_<higher> whichever side sends", {
    meta: {
      source: [
        "server:pkg/msgprocessor/conversation.go GetConversationIDByMsg",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    const { a, b, ca, cb } = await pair();
    const [lo, hi] = [a.userID, b.userID].sort();
    const expected = `si_${lo}_${hi}`;
    const ab = nextPush(cb, (m) => decodeText(m) === "a→b");
    await ca.sendText({ recvID: b.userID, text: "a→b" });
    const ba = nextPush(ca, (m) => decodeText(m) === "b→a");
    await cb.sendText({ recvID: a.userID, text: "b→a" });
    expect([(await ab).conversationID, (await ba).conversationID]).toEqual([expected, expected]);
    expect(Object.keys((await newestSettled(ca, expected, 2)).maxSeqs)).toEqual([expected]);
  });

  test("a message to oneself lands in si_<me>_<me> and is pushed once, not twice", {
    meta: {
      source: [
        "server:internal/push/push_handler.go handleMs2PsChat",
        "server:pkg/msgprocessor/conversation.go GetConversationIDByMsg",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §2 "Who receives it": no sender copy when sendID == recvID (push_handler.go handleMs2PsChat)
    const me = await stack.user();
    const c = await stack.connect(me);
    const got = inbox(c);
    await c.sendText({ recvID: me.userID, text: "note to self" });
    const marker = nextPush(c, (m) => decodeText(m) === "second note");
    await c.sendText({ recvID: me.userID, text: "second note" });
    await marker;
    expect(got.map((m) => [m.conversationID, Number(m.seq), decodeText(m)])).toEqual([
      [`si_${me.userID}_${me.userID}`, 1, "note to self"],
      [`si_${me.userID}_${me.userID}`, 2, "second note"],
    ]);
  });
});

describe("refused sends", () => {
  test("a message to an unknown user is refused with 1004 (RecordNotFound) and nothing is stored", {
    meta: {
      source: [
        "server:internal/rpc/msg/verify.go modifyMessageByUserMessageReceiveOpt",
        "server:pkg/rpccache/user.go getUserGlobalMsgRecvOpt",
        "server:pkg/common/storage/controller/user.go FindWithError",
        "docs/openim-protocol.md §2",
      ],
      provokes: ["UserLocalCache getUserGlobalMsgRecvOpt return"],
    },
  }, async () => {
    // docs/openim-protocol.md §2 Single chat — server: msg/verify.go modifyMessageByUserMessageReceiveOpt → controller/user.go FindWithError
    const a = await stack.user();
    const ca = await stack.connect(a);
    const err = await ca.sendText({ recvID: "nobody_by_this_name_at_all", text: "hello?" }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenImError);
    expect(err).toMatchObject({ errCode: 1004, errMsg: expect.stringContaining("RecordNotFound") });
    expect((await ca.getNewestSeq()).maxSeqs).toEqual({});
  });

  test.each([
    [2, "WriteGroupChatType, not enabled"],
    [0, "unset"],
    [99, "undefined"],
  ])(
    "sessionType %i (%s) is refused with 1001 'unknown sessionType'",
    { meta: { source: ["server:internal/rpc/msg/send.go SendMsg", "docs/openim-protocol.md §2"] } },
    async (sessionType) => {
      const { a, b, ca } = await pair();
      const msg = textMsg(a, b.userID, "odd session");
      msg.sessionType = sessionType;
      await expect(ca.sendMessage(msg)).rejects.toMatchObject({
        errCode: 1001,
        errMsg: expect.stringContaining("unknown sessionType"),
      });
    },
  );

  test("sessionType 4 (notification) with a text contentType is refused with 1001", {
    meta: { source: ["proto:sdkws/sdkws.go MsgData.Check", "docs/openim-protocol.md §2"] },
  }, async () => {
    // docs/openim-protocol.md §2 Hard checks: sessionType 4 ⇔ contentType 1400 — proto: sdkws/sdkws.go MsgData.Check
    const { a, b, ca } = await pair();
    const msg = textMsg(a, b.userID, "not a notification");
    msg.sessionType = 4;
    await expect(ca.sendMessage(msg)).rejects.toMatchObject({
      errCode: 1001,
      errMsg: expect.stringContaining("notification msg must have correct session type and content type"),
    });
  });

  test.each([
    ["empty content", (m: MsgData) => Object.assign(m, { content: new Uint8Array(0) }), "content is empty"],
    ["empty msgData.sendID", (m: MsgData) => Object.assign(m, { sendID: "" }), "sendID is empty"],
    ["empty recvID in a single chat", (m: MsgData) => Object.assign(m, { recvID: "" }), "is empty"],
  ])(
    "a message with %s is refused with 1001 ArgsError",
    {
      meta: {
        source: [
          "proto:sdkws/sdkws.go MsgData.Check",
          "tools:mw/rpc_server_interceptor.go RpcServerInterceptor",
          "server:internal/rpc/msg/verify.go messageVerification",
          "server:pkg/rpccache/friend.go isBlack",
          "docs/openim-protocol.md §2",
        ],
        provokes: ["FriendLocalCache isBlack return"],
      },
    },
    async (_what, change, why) => {
      // docs/openim-protocol.md §2 Validation — proto: sdkws/sdkws.go MsgData.Check, run by tools: mw rpc_server_interceptor
      // An empty recvID passes MsgData.Check and fails later, in the blacklist lookup ("userID2 is empty"),
      // which OpenIM logs as an ERROR line.
      const { a, b, ca } = await pair();
      const msg = change(textMsg(a, b.userID, "broken"));
      await expect(ca.sendMessage(msg)).rejects.toMatchObject({
        errCode: 1001,
        errMsg: expect.stringContaining(why),
      });
      expect(ca.isOpen).toBe(true);
    },
  );

  test("msgData.sendID is not checked against the connection: a message naming another sender is delivered as theirs", {
    meta: {
      source: [
        "server:internal/rpc/msg/send.go SendMsg",
        "server:internal/rpc/msg/verify.go messageVerification",
        "server:internal/msggateway/client.go handleMessage",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Identity checks: "no check that msgData.sendID equals the connected user" (send.go, verify.go);
    // only the envelope's sendID is checked (client.go handleMessage)
    const [a, b, c] = await stack.newUsers(3);
    const ca = await stack.connect(a);
    const cb = await stack.connect(b);
    const msg = textMsg(c, b.userID, "signed C, sent by A");
    const arrival = nextPush(cb, (m) => m.clientMsgID === msg.clientMsgID);
    await ca.sendMessage(msg);
    expect(await arrival).toMatchObject({
      sendID: c.userID,
      conversationID: singleConversationID(b.userID, c.userID),
    });
  });
});

describe("across message-gateway instances", () => {
  test("users on different gateway instances reach each other: A on instance 0 → B on instance 1 and back, each copy pushed exactly once", {
    meta: {
      source: [
        "server:internal/push/onlinepusher.go DefaultAllNode.GetConnsAndOnlinePush",
        "server:internal/msggateway/hub_server.go SuperGroupOnlineBatchPushOneMsg",
        "tools:discovery/etcd/etcd.go GetConns",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async (ctx) => {
    // push asks every msggateway registered in etcd to push to the online receivers; each
    // instance pushes only to the sockets it holds (onlinepusher.go DefaultAllNode, hub_server.go
    // SuperGroupOnlineBatchPushOneMsg), so a receiver on another instance gets one copy, not one per instance.
    const [first, second] = gatewayInstances(ctx, stack.endpoints, 2);
    const [a, b] = await stack.newUsers(2);
    const ca = await stack.connect(a, { wsUrl: first });
    const cb = await stack.connect(b, { wsUrl: second });
    const [gotA, gotB] = [inbox(ca), inbox(cb)];
    const both = (text: string) =>
      Promise.all([ca, cb].map((c) => nextPush(c, (m) => decodeText(m) === text)));

    const there = both("a→b 2");
    await ca.sendText({ recvID: b.userID, text: "a→b 1" });
    await ca.sendText({ recvID: b.userID, text: "a→b 2" });
    await there;
    const back = both("b→a 2");
    await cb.sendText({ recvID: a.userID, text: "b→a 1" });
    await cb.sendText({ recvID: a.userID, text: "b→a 2" });
    await back;

    // Both sides see the one conversation once each: the receiver's copy and the sender's own
    // (docs/openim-protocol.md §2 "Who receives it"), each through the instance that holds its socket.
    const expected = [
      [1, a.userID, "a→b 1"],
      [2, a.userID, "a→b 2"],
      [3, b.userID, "b→a 1"],
      [4, b.userID, "b→a 2"],
    ];
    const seen = (got: ReceivedMsg[]) => got.map((m) => [Number(m.seq), m.sendID, decodeText(m)]);
    expect(seen(gotB)).toEqual(expected);
    expect(seen(gotA)).toEqual(expected);
  });

  test("a user with a socket on each of two instances (two platforms) gets the push once on each", {
    meta: {
      source: [
        "server:internal/push/onlinepusher.go DefaultAllNode.GetConnsAndOnlinePush",
        "server:internal/msggateway/ws_server.go sendUserOnlineInfoToOtherNode",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async (ctx) => {
    // A login on one instance tells the others (ws_server.go sendUserOnlineInfoToOtherNode →
    // MultiTerminalLoginCheck); different platforms are not kicked, and each instance pushes to its own socket.
    const [first, second] = gatewayInstances(ctx, stack.endpoints, 2);
    const [a, b] = await stack.newUsers(2);
    const mobile = await getUserToken(stack.rest, stack.adminToken, b.userID, 2);
    const sender = await stack.connect(a, { wsUrl: first });
    const pc = await stack.connect(b, { wsUrl: first });
    const phone = await stack.connect({ ...b, token: mobile.token, platformID: 2 }, { wsUrl: second });
    const [gotPc, gotPhone] = [inbox(pc), inbox(phone)];
    const arrivals = [pc, phone].map((c) => nextPush(c, (m) => decodeText(m) === "twice"));
    await sender.sendText({ recvID: b.userID, text: "once" });
    await sender.sendText({ recvID: b.userID, text: "twice" });
    await Promise.all(arrivals);
    for (const got of [gotPc, gotPhone])
      expect(got.map((m) => [Number(m.seq), decodeText(m)])).toEqual([
        [1, "once"],
        [2, "twice"],
      ]);
    expect(pc.isOpen && phone.isOpen).toBe(true);
  });
});
