import { gunzipSync } from "node:zlib";
import { PbCoder } from "@openim/protocol";
import { describe, expect, test } from "vitest";
import { encodeDelUserPushTokenReq, encodeGetMaxSeqReq } from "../src/protocol/hand-coders.js";
import { decodeText, ReqIdentifier } from "../src/protocol/index.js";
import { TEXT_PING } from "../src/protocol/ws-frames.js";
import { closed, nextPush, type TestUser } from "./support/fixtures.js";
import { at } from "./support/lists.js";
import { encodeJsonRequest, gatewayQuery, rawConnect } from "./support/raw-ws.js";
import { useStack } from "./support/stack.js";
import { closesWithoutReply, getMaxSeq } from "./support/websocket.js";

// Suite `websocket-frames`: what travels on an open connection to OpenIM's message gateway —
// heartbeats, the frame limit, gzip, and the frame layer's answers to requests it cannot serve.
// Facts: docs/openim-protocol.md §1; server: internal/msggateway/client.go, message_handler.go (v3.8.3).
const stack = useStack();

/** OpenIM's message gateway without nginx in front: frames as OpenIM itself answers them. */
const direct = () => stack.endpoints.openimWs;

describe("heartbeat", () => {
  test('a text {"type":"ping"} is answered by the text frame {"type":"pong","body":null}', {
    meta: {
      source: ["server:internal/msggateway/client.go handlerTextMessage", "docs/openim-protocol.md §1"],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Heartbeat — server: client.go handlerTextMessage (TextMessage{type, body RawMessage})
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u));
    conn.sendText(TEXT_PING);
    const pong = await conn.nextFrame();
    expect(pong.binary).toBe(false);
    expect(pong.data.toString("utf8")).toBe('{"type":"pong","body":null}');
  });

  test("a text ping's body comes back unchanged in the pong", {
    meta: {
      source: ["server:internal/msggateway/client.go handlerTextMessage", "docs/openim-protocol.md §1"],
    },
  }, async () => {
    // server: client.go handlerTextMessage — only Type is rewritten before json.Marshal
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u));
    conn.sendText(JSON.stringify({ type: "ping", body: { n: 7, s: "échо" } }));
    expect(JSON.parse((await conn.nextFrame()).data.toString("utf8"))).toEqual({
      type: "pong",
      body: { n: 7, s: "échо" },
    });
  });

  test('a text {"type":"pong"} is accepted silently and the connection keeps serving requests', {
    meta: {
      source: ["server:internal/msggateway/client.go handlerTextMessage", "docs/openim-protocol.md §1"],
    },
  }, async () => {
    // server: client.go handlerTextMessage (case TextPong: return nil)
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u));
    conn.sendText(JSON.stringify({ type: "pong" }));
    const reply = await conn.request(getMaxSeq(u));
    expect(reply.errCode).toBe(0);
    expect(conn.frames).toHaveLength(1);
  });

  test("a WebSocket ping control frame is answered by a pong with the same payload", {
    meta: { source: ["server:internal/msggateway/client.go pingHandler", "docs/openim-protocol.md §1"] },
  }, async () => {
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u));
    const payload = Buffer.from("cutover-heartbeat-✓");
    expect((await conn.ping(payload)).equals(payload)).toBe(true);
    expect(conn.isOpen).toBe(true);
  });

  test.each([
    ["an unknown text type", JSON.stringify({ type: "hello" })],
    ["a text frame that is not JSON", "ping"],
    ["a request envelope sent as text", ""],
  ])(
    "%s closes the connection without a reply",
    {
      meta: {
        source: [
          "server:internal/msggateway/client.go readMessage",
          "server:internal/msggateway/client.go handlerTextMessage",
          "docs/openim-protocol.md §1",
        ],
      },
    },
    async (_what, text) => {
      const u = await stack.user();
      const conn = await rawConnect(direct(), gatewayQuery(u));
      const frame = text || encodeJsonRequest(getMaxSeq(u)).toString("utf8");
      const info = await closesWithoutReply(conn, () => conn.sendText(frame));
      expect(info.code).toBe(1006);
    },
  );

  test("the read deadline is 30 s: a silent socket is dropped, while text pings, WS pings or the server's own pings to Web keep one open", {
    timeout: 45_000,
    meta: {
      source: [
        "server:internal/msggateway/constant.go pongWait",
        "server:internal/msggateway/client.go readMessage",
        "server:internal/msggateway/client.go activeHeartbeat",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Heartbeat and timeouts — server: constant.go pongWait=30s, pingPeriod=27s;
    // client.go readMessage SetReadDeadline, pingHandler/pongHandler, activeHeartbeat (platform 5 only)
    const [textUser, pingUser, silentUser] = await stack.newUsers(3, 3);
    const webUser = await stack.user(5);
    // The kept-alive sockets open first, so their deadlines would fall before the silent one's.
    const textConn = await rawConnect(direct(), gatewayQuery(textUser));
    const pingConn = await rawConnect(direct(), gatewayQuery(pingUser));
    const webConn = await rawConnect(direct(), gatewayQuery(webUser));
    const silent = await rawConnect(direct(), gatewayQuery(silentUser));
    const beats = setInterval(() => {
      textConn.sendText(TEXT_PING);
      pingConn.ws.ping();
    }, 10_000);
    try {
      const info = await silent.closedWithin(40_000);
      const idleMs = info.at - silent.openedAt;
      expect(idleMs).toBeGreaterThanOrEqual(29_500);
      expect(idleMs).toBeLessThan(32_500);
      expect(info.code).toBe(1006);
      expect(silent.frames).toEqual([]);
      // Web (platform 5) got the server's ping ≈27 s in; ws answered it, which reset the deadline.
      expect(webConn.pings.length).toBeGreaterThanOrEqual(1);
      expect(at(webConn.pings, 0).at - webConn.openedAt).toBeGreaterThan(25_000);
      expect(textConn.pings).toEqual([]);
      for (const c of [textConn, pingConn, webConn]) {
        expect(c.isOpen).toBe(true);
        const from = c.frames.length;
        c.sendText(TEXT_PING);
        await c.nextFrame((f) => !f.binary && f.data.includes("pong"), 5_000, from);
      }
    } finally {
      clearInterval(beats);
    }
  });
});

describe("frame size", () => {
  const limit = stack.profile.maxMessageSize;
  const paddedPing = (size: number) => {
    const head = '{"type":"ping","body":"';
    const tail = '"}';
    return head + "x".repeat(size - head.length - tail.length) + tail;
  };
  const paddedRequest = (u: TestUser, size: number) => {
    const bytes = encodeJsonRequest(getMaxSeq(u));
    // Trailing whitespace is valid JSON: the frame grows, its meaning does not.
    return Buffer.concat([bytes, Buffer.alloc(size - bytes.length, 0x20)]);
  };

  test(`a text frame of exactly ${limit} bytes is read and answered`, {
    meta: {
      source: [
        "server:internal/msggateway/constant.go maxMessageSize",
        "server:internal/msggateway/client.go readMessage",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Message size — server: constant.go maxMessageSize, client.go SetReadLimit
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u));
    conn.sendText(paddedPing(limit));
    const pong = await conn.nextFrame();
    expect(pong.data.length).toBe(limit); // "pong" is as long as "ping"
  });

  test(`a text frame of ${limit + 1} bytes closes the connection with 1009 (message too big) and no reply`, {
    meta: {
      source: [
        "server:internal/msggateway/client.go readMessage",
        "server:internal/msggateway/constant.go maxMessageSize",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: client.go readMessage (SetReadLimit) — gorilla answers ErrReadLimit with close 1009
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u));
    const info = await closesWithoutReply(conn, () => conn.sendText(paddedPing(limit + 1)));
    expect(info.code).toBe(1009);
  });

  test(`a binary request padded to exactly ${limit} bytes is answered; one byte more closes with 1009`, {
    meta: {
      source: [
        "server:internal/msggateway/client.go readMessage",
        "server:internal/msggateway/constant.go maxMessageSize",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // the limit counts the whole frame (envelope + base64 data), not the message content
    const [u, v] = await stack.newUsers(2);
    const fits = await rawConnect(direct(), gatewayQuery(u));
    fits.sendBinary(paddedRequest(u, limit));
    expect(fits.decode(await fits.nextFrame())).toMatchObject({ reqIdentifier: 1001, errCode: 0 });

    const over = await rawConnect(direct(), gatewayQuery(v));
    const info = await closesWithoutReply(over, () => over.sendBinary(paddedRequest(v, limit + 1)));
    expect(info.code).toBe(1009);
  });
});

describe("compression", () => {
  test("compression=gzip gzips every binary reply and push, and reads gzipped requests", {
    meta: {
      source: [
        "server:internal/msggateway/client.go handleMessage",
        "server:internal/msggateway/client.go writeBinaryMsg",
        "server:internal/msggateway/compressor.go",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Compression — server: client.go handleMessage DecompressWithPool, writeBinaryMsg CompressWithPool
    const [u, peer] = await stack.newUsers(2);
    const conn = await rawConnect(direct(), gatewayQuery(u, { compression: "gzip" }));
    const reply = await conn.request(getMaxSeq(u), { gzip: true });
    expect(reply).toMatchObject({ reqIdentifier: 1001, errCode: 0 });
    const sender = await stack.connect(peer);
    await sender.sendText({ recvID: u.userID, text: "zipped push" });
    const push = await conn.nextFrame((f) => f.binary && conn.decode(f, true).reqIdentifier === 2001);
    for (const f of conn.frames) expect([...f.data.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    const msgs = PbCoder.PushMessages.decode(conn.decode(push, true).data).msgs;
    const pushed = at(at(Object.values(msgs), 0).Msgs, 0);
    expect(decodeText(pushed)).toBe("zipped push");
  });

  test("an HTTP header `compression: gzip` turns gzip on just like the query parameter", {
    meta: { source: ["server:internal/msggateway/context.go GetCompression", "docs/openim-protocol.md §1"] },
  }, async () => {
    // server: context.go GetCompression (query first, then header)
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u), { headers: { compression: "gzip" } });
    const reply = await conn.request(getMaxSeq(u), { gzip: true });
    expect(reply.errCode).toBe(0);
    expect(gunzipSync(at(conn.frames, 0).data).toString("utf8")).toContain('"reqIdentifier":1001');
  });

  test("text frames stay uncompressed under gzip: the pong is plain JSON", {
    meta: {
      source: ["server:internal/msggateway/client.go handlerTextMessage", "docs/openim-protocol.md §1"],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Compression — server: client.go handlerTextMessage writes MessageText directly
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u, { compression: "gzip" }));
    conn.sendText(TEXT_PING);
    expect((await conn.nextFrame()).data.toString("utf8")).toBe('{"type":"pong","body":null}');
  });

  test("under gzip an uncompressed binary frame closes the connection without a reply", {
    meta: { source: ["server:internal/msggateway/client.go handleMessage", "docs/openim-protocol.md §1"] },
  }, async () => {
    // server: client.go handleMessage — DecompressWithPool error is returned, readMessage closes
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u, { compression: "gzip" }));
    const info = await closesWithoutReply(conn, () => conn.sendBinary(encodeJsonRequest(getMaxSeq(u))));
    expect(info.code).toBe(1006);
  });

  test("any compression value other than gzip is ignored: frames travel plain", {
    meta: { source: ["server:internal/msggateway/context.go GetCompression", "docs/openim-protocol.md §1"] },
  }, async () => {
    // server: context.go GetCompression (only "gzip" counts)
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u, { compression: "deflate" }));
    const reply = await conn.request(getMaxSeq(u));
    expect(reply.errCode).toBe(0);
    expect(at(conn.frames, 0).data[0]).toBe(0x7b); // "{"
  });

  test("OpenImWsClient with compression exchanges a message both ways through nginx", {
    meta: {
      source: [
        "server:internal/msggateway/client.go handleMessage",
        "server:internal/msggateway/client.go writeBinaryMsg",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // the client's gzip mode against the real server (ws-client.ts compression option)
    const [a, b] = await stack.newUsers(2);
    const ca = await stack.connect(a, { compression: true });
    const cb = await stack.connect(b, { compression: true });
    const toB = nextPush(cb, (m) => decodeText(m) === "gz a→b");
    await ca.sendText({ recvID: b.userID, text: "gz a→b" });
    await toB;
    const toA = nextPush(ca, (m) => decodeText(m) === "gz b→a");
    await cb.sendText({ recvID: a.userID, text: "gz b→a" });
    expect(Number((await toA).seq)).toBe(2);
  });
});

describe("the frame layer", () => {
  test("a malformed binary frame makes the server close the connection without a reply", {
    meta: { source: ["server:internal/msggateway/client.go handleMessage", "docs/openim-protocol.md §1"] },
  }, async () => {
    // foundation wire test — server: client.go handleMessage (Encoder.Decode error)
    const u = await stack.user();
    const client = await stack.connect(u);
    const closing = closed(client);
    client.sendRawFrame(new Uint8Array(Buffer.from("{not json")), true);
    const info = await closing;
    expect(info.wasKicked).toBe(false);
    expect(info.code).toBe(1006);
  });

  test("an envelope whose sendID is not the connected user closes the connection without a reply", {
    meta: { source: ["server:internal/msggateway/client.go handleMessage", "docs/openim-protocol.md §1"] },
  }, async () => {
    // docs/openim-protocol.md §1 Identity checks — server: client.go handleMessage ("exception conn userID not same to req userID")
    const [u, other] = await stack.newUsers(2);
    const conn = await rawConnect(direct(), gatewayQuery(u));
    await closesWithoutReply(conn, () =>
      conn.sendBinary(encodeJsonRequest({ ...getMaxSeq(u), sendID: other.userID })),
    );
  });

  test.each([
    [3001, "WSDataError, defined but never dispatched"],
    [1999, "never defined"],
  ])(
    "reqIdentifier %i (%s) closes the connection without a reply",
    {
      meta: {
        source: [
          "server:internal/msggateway/client.go handleMessage",
          "server:internal/msggateway/constant.go WSDataError",
          "docs/openim-protocol.md §1",
        ],
      },
    },
    async (id) => {
      const u = await stack.user();
      const conn = await rawConnect(direct(), gatewayQuery(u));
      await closesWithoutReply(conn, () =>
        conn.sendBinary(encodeJsonRequest({ reqIdentifier: id, sendID: u.userID })),
      );
    },
  );

  test("a valid envelope with an unparsable protobuf body gets errCode 500 and the connection stays open", {
    meta: {
      source: [
        "server:internal/msggateway/message_handler.go GetSeq",
        "tools:apiresp/resp.go ParseError",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 — server: message_handler.go GetSeq (proto.Unmarshal error), tools: apiresp ParseError
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u));
    const reply = await conn.request({
      reqIdentifier: 1001,
      sendID: u.userID,
      data: Buffer.from([0xff, 0xff]),
    });
    expect(reply).toMatchObject({ errCode: 500, errMsg: expect.stringContaining("unmarshaling request") });
    expect((await conn.request(getMaxSeq(u))).errCode).toBe(0);
  });

  test("1002 without operationID fails validation with 500 while 1001 without one is answered", {
    meta: {
      source: [
        "server:internal/msggateway/message_handler.go PullMessageBySeqList",
        "server:internal/msggateway/message_handler.go GetSeq",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 — server: message_handler.go PullMessageBySeqList validate.Struct(data); GetSeq validates only GetMaxSeqReq
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u));
    const pull = await conn.request({ reqIdentifier: 1002, sendID: u.userID, operationID: "" });
    expect(pull).toMatchObject({ errCode: 500, errMsg: expect.stringContaining("'Req.OperationID'") });
    expect((await conn.request({ ...getMaxSeq(u), operationID: "" })).errCode).toBe(0);
    expect(conn.isOpen).toBe(true);
  });

  test("1001 for another user's seqs is refused with 1002 (NoPermission)", {
    meta: {
      source: [
        "server:internal/rpc/msg/sync_msg.go GetMaxSeq",
        "server:pkg/authverify/token.go CheckAccessV3",
        "docs/openim-protocol.md §2",
      ],
    },
  }, async () => {
    const [u, other] = await stack.newUsers(2);
    const conn = await rawConnect(direct(), gatewayQuery(u));
    const reply = await conn.request({
      reqIdentifier: 1001,
      sendID: u.userID,
      data: encodeGetMaxSeqReq({ userID: other.userID }),
    });
    expect(reply.errCode).toBe(1002);
  });

  test("1004 (send signal) is answered with 1001 ArgsError 'MsgData is empty' and leaves the connection open", {
    meta: {
      source: [
        "server:internal/msggateway/message_handler.go SendSignalMessage",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 reqIdentifier 1004 — server: message_handler.go SendSignalMessage → SendMsg(ctx, nil)
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u));
    const reply = await conn.request({ reqIdentifier: 1004, sendID: u.userID });
    expect(reply).toMatchObject({ errCode: 1001, errMsg: expect.stringContaining("MsgData is empty") });
    expect(conn.isOpen).toBe(true);
  });

  test("2003 (logout) is answered with errCode 0, then the server closes the socket (1006)", {
    meta: {
      source: [
        "server:internal/msggateway/message_handler.go UserLogout",
        "server:internal/msggateway/client.go replyMessage",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 reqIdentifier 2003 — server: client.go replyMessage returns "user logout" after writing
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u));
    const reply = await conn.request({
      reqIdentifier: ReqIdentifier.Logout,
      sendID: u.userID,
      data: encodeDelUserPushTokenReq({ userID: u.userID, platformID: 3 }),
    });
    expect(reply).toMatchObject({ reqIdentifier: 2003, errCode: 0 });
    expect(reply.data.length).toBe(0); // push.DelUserPushTokenResp has no fields
    expect((await conn.closedWithin(5_000)).code).toBe(1006);
  });
});
