import { gunzipSync } from "node:zlib";
import { PbCoder } from "@openim/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, inject, type TestContext, test } from "vitest";
import { encodeDelUserPushTokenReq, encodeGetMaxSeqReq } from "../src/protocol/hand-coders.js";
import {
  decodeText,
  getUserToken,
  OpenImError,
  parseToken,
  ReqIdentifier,
  singleConversationID,
} from "../src/protocol/index.js";
import {
  closed,
  eventually,
  inbox,
  nextPush,
  type StackFixtures,
  sleep,
  stackFixtures,
  type TestUser,
} from "./support/fixtures.js";
import { signImToken } from "./support/im-token.js";
import {
  closeRawConns,
  encodeJsonRequest,
  gatewayQuery,
  type RawConn,
  rawConnect,
  rawDial,
} from "./support/raw-ws.js";
import { skipUnless } from "./support/skip.js";
import { newestSettled, pullSettled } from "./support/sync.js";
import "./support/context.js";

// Suite `websocket`: OpenIM's message gateway itself — the upgrade and its query, the
// handshake's auth answers, heartbeats, the frame limit, gzip, the frame layer, reconnect
// and catch-up by seq, multi-login kicks, and the WebSocket path bypassing the gateway.
// Facts: docs/openim-protocol.md §1; server: internal/msggateway/*.go (v3.8.3).
const endpoints = inject("endpoints");
const profile = inject("profile");
let stack: StackFixtures;

/** Multi-login cases depend on share.yml multiLogin.policy; others are skipped with the reason. */
const needsPolicy = (ctx: TestContext, ...policies: number[]) =>
  skipUnless(
    ctx,
    policies.includes(profile.multiLoginPolicy),
    `the target's multiLoginPolicy is ${profile.multiLoginPolicy}; this case needs ${policies.join(" or ")}`,
  );

beforeAll(async () => {
  stack = await stackFixtures(endpoints);
});
afterEach(async () => {
  await Promise.all([stack.cleanup(), closeRawConns()]);
});
afterAll(async () => {
  await stack.gateway.close();
});

/** OpenIM's message gateway without nginx in front: the handshake as OpenIM itself answers it. */
const direct = () => endpoints.openimWs;
const getMaxSeq = (u: TestUser) => ({
  reqIdentifier: ReqIdentifier.GetNewestSeq,
  sendID: u.userID,
  data: encodeGetMaxSeqReq({ userID: u.userID }),
});
const textPing = JSON.stringify({ type: "ping" });

/** Sends `frame` and expects the server to close the socket without writing anything back. */
async function closesWithoutReply(conn: RawConn, send: () => void) {
  const before = conn.frames.length;
  send();
  const info = await conn.closedWithin(5_000);
  expect(conn.frames.slice(before)).toEqual([]);
  return info;
}

/** A token re-minted within the same second is the identical string (observed on v3.8.3). */
const nextSecond = () => sleep(1_100);

describe("upgrade query parameters", () => {
  test.each([
    ["no token", "token is empty", { token: undefined }],
    ["no sendID", "sendID is empty", { sendID: undefined }],
    ["no platformID", "platformID is empty", { platformID: undefined }],
    ["a platformID that is not an integer", "platformID is not int", { platformID: "web" }],
    ["sdkType=swift", "sdkType is not go or js", { sdkType: "swift" }],
  ] as const)(
    "an upgrade with %s is answered over plain HTTP with 1602 (%s)",
    {
      meta: {
        source: [
          "server:internal/msggateway/context.go ParseEssentialArgs",
          "server:internal/msggateway/ws_server.go wsHandler",
          "server:internal/msggateway/http_error.go httpError",
          "docs/openim-protocol.md §1",
        ],
      },
    },
    async (_what, reason, drop) => {
      // docs/openim-protocol.md §1 query parameters — server: internal/msggateway/context.go ParseEssentialArgs,
      // ws_server.go wsHandler → http_error.go httpError (HTTP 200, JSON body, no upgrade)
      const [u] = await stack.newUsers(1);
      const r = await rawDial(direct(), gatewayQuery(u!, drop));
      expect(r.kind).toBe("refused");
      if (r.kind !== "refused") return;
      expect(r.status).toBe(200);
      expect(r.contentType).toBe("application/json; charset=utf-8");
      expect(r.envelope).toMatchObject({
        errCode: 1602,
        errMsg: "args err, need token, sendID, platformID",
        errDlt: expect.stringContaining(reason),
      });
    },
  );

  test("a 1602 argument error stays an HTTP answer even when isMsgResp=true asks for a text frame", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go wsHandler",
        "server:internal/msggateway/http_error.go httpError",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 "How an error is reported" — v3.8.3 wsHandler calls httpError for
    // ParseEssentialArgs failures before looking at isMsgResp ([patch.16] changes this)
    const [u] = await stack.newUsers(1);
    const r = await rawDial(direct(), gatewayQuery(u!, { sdkType: "swift", isMsgResp: "true" }));
    expect(r).toMatchObject({ kind: "refused", status: 200, envelope: { errCode: 1602 } });
  });

  test("isMsgResp=true makes the first frame after the upgrade the text {errCode:0,errMsg:'',errDlt:''}", {
    meta: {
      source: [
        "server:internal/msggateway/long_conn.go RespondWithSuccess",
        "tools:apiresp/resp.go ApiResponse",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 "Success text message" — server: long_conn.go RespondWithSuccess,
    // tools: apiresp/resp.go ApiResponse (data omitted when nil)
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!, { isMsgResp: "true" }));
    const first = await conn.nextFrame();
    expect(first.binary).toBe(false);
    expect(first.data.toString("utf8")).toBe('{"errCode":0,"errMsg":"","errDlt":""}');
  });

  test.each([
    ["absent", undefined],
    ["false", "false"],
    ["not a bool (yes)", "yes"],
  ] as const)(
    "with isMsgResp %s no verdict frame is sent: the first frame is the answer to a ping",
    {
      meta: {
        source: ["server:internal/msggateway/context.go ShouldSendResp", "docs/openim-protocol.md §1"],
      },
    },
    async (_what, isMsgResp) => {
      // server: context.go ShouldSendResp — strconv.ParseBool; absent or unparsable means false
      const [u] = await stack.newUsers(1);
      const conn = await rawConnect(direct(), gatewayQuery(u!, { isMsgResp }));
      conn.sendText(textPing);
      const first = await conn.nextFrame();
      expect(JSON.parse(first.data.toString("utf8"))).toMatchObject({ type: "pong" });
    },
  );

  test("without sdkType the gateway speaks gob: a push is a gob-encoded Resp, not JSON", {
    meta: {
      source: [
        "server:internal/msggateway/client.go ResetClient",
        "server:internal/msggateway/encoder.go NewGobEncoder",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Encoder — server: client.go ResetClient (GoSDK → NewGobEncoder), encoder.go
    const [u, peer] = await stack.newUsers(2);
    const conn = await rawConnect(direct(), gatewayQuery(u!, { sdkType: undefined }));
    const sender = await stack.connect(peer!);
    await sender.sendText({ recvID: u!.userID, text: "to a gob client" });
    const push = await conn.nextFrame((f) => f.binary);
    expect(push.data[0]).not.toBe(0x7b); // "{"
    // gob sends the type's description first: the struct name and its field names.
    const wire = push.data.toString("latin1");
    for (const name of ["Resp", "ReqIdentifier", "MsgIncr", "OperationID", "ErrCode", "Data"]) {
      expect(wire).toContain(name);
    }
  });

  test("sdkType=go is accepted and means gob: a JSON request envelope is not understood and the socket closes", {
    meta: {
      source: [
        "server:internal/msggateway/context.go ParseEssentialArgs",
        "server:internal/msggateway/client.go handleMessage",
        "server:internal/msggateway/encoder.go GobEncoder",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: context.go ParseEssentialArgs (go|js), client.go handleMessage → Encoder.Decode error
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!, { sdkType: "go" }));
    const info = await closesWithoutReply(conn, () => conn.sendBinary(encodeJsonRequest(getMaxSeq(u!))));
    expect(info.code).toBe(1006);
  });

  test("with sdkType=js a reply is a binary JSON frame echoing reqIdentifier, msgIncr and operationID, without errDlt", {
    meta: {
      source: [
        "server:internal/msggateway/message_handler.go Resp",
        "server:internal/msggateway/client.go replyMessage",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Frame envelope — server: message_handler.go Resp, client.go replyMessage
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!));
    conn.sendBinary(
      encodeJsonRequest({ ...getMaxSeq(u!), msgIncr: "incr-42", operationID: "op-websocket-echo" }),
    );
    const frame = await conn.nextFrame();
    expect(frame.binary).toBe(true);
    const json = JSON.parse(frame.data.toString("utf8")) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(
      ["data", "errCode", "errMsg", "msgIncr", "operationID", "reqIdentifier"].sort(),
    );
    expect(json).toMatchObject({
      reqIdentifier: 1001,
      msgIncr: "incr-42",
      operationID: "op-websocket-echo",
      errCode: 0,
      errMsg: "",
    });
    // data is the protobuf GetMaxSeqResp as base64 (Go's encoding/json for []byte)
    const resp = PbCoder.GetMaxSeqResp.decode(Buffer.from(String(json.data ?? ""), "base64"));
    expect(resp.maxSeqs).toEqual({});
  });

  test("every path on the gateway's port is upgraded, not only /", {
    meta: { source: ["server:internal/msggateway/ws_server.go Run", "docs/openim-protocol.md §1"] },
  }, async () => {
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(`${direct()}/any/path/at/all`, gatewayQuery(u!, { isMsgResp: "true" }));
    expect(JSON.parse((await conn.nextFrame()).data.toString("utf8"))).toEqual({
      errCode: 0,
      errMsg: "",
      errDlt: "",
    });
  });
});

describe("auth at the handshake", () => {
  test("a token OpenIM issued names its user and platform and lasts more than a day (auth/parse_token)", {
    meta: { source: ["server:internal/rpc/auth/auth.go ParseToken", "docs/openim-protocol.md §3"] },
  }, async () => {
    // foundation wire test — docs/openim-protocol.md §3 auth/parse_token (expireTimeSeconds is an absolute Unix time)
    const [u] = await stack.newUsers(1, 3);
    const parsed = await parseToken(stack.rest, u!.token);
    expect(parsed).toMatchObject({ userID: u!.userID, platformID: 3 });
    expect(parsed.expireTimeSeconds).toBeGreaterThan(Date.now() / 1000 + 86_400);
  });

  const forge = (token: string) => {
    const [h, p] = token.split(".");
    return `${h}.${p}.${"B".repeat(43)}`;
  };

  test("a forged signature is refused over HTTP with 1505 and the JWT error in errMsg", {
    meta: {
      source: [
        "tools:tokenverify/jwt_token.go mapValidationError",
        "server:internal/msggateway/ws_server.go wsHandler",
        "docs/openim-protocol.md §4",
      ],
    },
  }, async () => {
    const [u] = await stack.newUsers(1);
    const r = await rawDial(direct(), gatewayQuery({ ...u!, token: forge(u!.token) }));
    expect(r).toMatchObject({
      kind: "refused",
      status: 200,
      envelope: { errCode: 1505, errMsg: expect.stringContaining("signature is invalid") },
    });
  });

  test("with isMsgResp=true a bad token is answered by one text frame carrying the error, then the socket closes", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go wsHandler",
        "server:internal/msggateway/long_conn.go RespondWithError",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    const [u] = await stack.newUsers(1);
    const r = await rawDial(direct(), gatewayQuery({ ...u!, token: forge(u!.token) }, { isMsgResp: "true" }));
    expect(r.kind).toBe("upgraded");
    if (r.kind !== "upgraded") return;
    const info = await r.conn.closedWithin(5_000);
    expect(r.conn.frames).toHaveLength(1);
    expect(r.conn.frames[0]!.binary).toBe(false);
    expect(JSON.parse(r.conn.frames[0]!.data.toString("utf8"))).toMatchObject({ errCode: 1505 });
    expect(info.code).toBe(1006);
  });

  test("the same forged token is refused with the same code through OpenImWsClient and on REST", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go wsHandler",
        "server:internal/api/router.go GinParseToken",
        "server:internal/rpc/auth/auth.go parseToken",
        "docs/openim-protocol.md §4",
      ],
    },
  }, async () => {
    // foundation wire test — server: ws_server.go wsHandler and the API's token middleware share auth.parseToken
    const [u] = await stack.newUsers(1);
    const forged = { ...u!, token: forge(u!.token) };
    const ws = await stack.connect(forged).catch((err: unknown) => err);
    expect(ws).toBeInstanceOf(OpenImError);
    expect((ws as OpenImError).errCode).toBe(1505);
    const rest = await stack.rest
      .call("user/get_users_info", { userIDs: [u!.userID] }, { token: forged.token })
      .catch((e: unknown) => e);
    expect(rest).toBeInstanceOf(OpenImError);
    expect((rest as OpenImError).errCode).toBe(1505);
  });

  test("a token that is not a JWT is refused with 1503", {
    meta: { source: ["tools:tokenverify/jwt_token.go mapValidationError", "docs/openim-protocol.md §4"] },
  }, async () => {
    const [u] = await stack.newUsers(1);
    const r = await rawDial(direct(), gatewayQuery({ ...u!, token: "not.a-token" }));
    expect(r).toMatchObject({ kind: "refused", envelope: { errCode: 1503 } });
  });

  test("another user's token is refused with 1502 over HTTP, even with isMsgResp=true", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go validateRespWithRequest",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 — server: ws_server.go validateRespWithRequest ("token uid … != userID …")
    const [a, b] = await stack.newUsers(2);
    const r = await rawDial(direct(), gatewayQuery({ ...a!, token: b!.token }, { isMsgResp: "true" }));
    expect(r).toMatchObject({
      kind: "refused",
      status: 200,
      envelope: { errCode: 1502, errDlt: expect.stringContaining("token uid") },
    });
    await expect(stack.connect({ ...a!, token: b!.token })).rejects.toMatchObject({ errCode: 1502 });
  });

  test("a token used with another platformID is refused with 1502", {
    meta: {
      source: [
        "server:internal/msggateway/ws_server.go validateRespWithRequest",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: ws_server.go validateRespWithRequest ("token platform … != platformID …")
    const [u] = await stack.newUsers(1, 3);
    const r = await rawDial(direct(), gatewayQuery(u!, { platformID: "4" }));
    expect(r).toMatchObject({
      kind: "refused",
      envelope: { errCode: 1502, errDlt: expect.stringContaining("token platform") },
    });
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
    needsPolicy(ctx, 1);
    // docs/openim-protocol.md §1 Multi-login, "At token issuance" — server: storage/controller/auth.go CreateToken
    const [u] = await stack.newUsers(1, 3);
    await nextSecond();
    const newer = await getUserToken(stack.rest, stack.adminToken, u!.userID, 3);
    expect(newer.token).not.toBe(u!.token);
    const attempt = await stack.connect(u!).catch((err: unknown) => err);
    expect(attempt).toBeInstanceOf(OpenImError);
    expect((attempt as OpenImError).errCode).toBe(1506);
  });

  describe("tokens signed with OpenIM's secret but never issued", () => {
    const noSecret = "the profile forbids admin access, so OpenIM's secret may not be used to sign tokens";
    const now = () => Math.floor(Date.now() / 1000);

    test("an expired token is refused with 1501", {
      meta: { source: ["tools:tokenverify/jwt_token.go mapValidationError", "docs/openim-protocol.md §4"] },
    }, async (ctx) => {
      skipUnless(ctx, profile.adminAccess, noSecret);
      const [u] = await stack.newUsers(1);
      const token = await signImToken(endpoints.adminSecret, {
        UserID: u!.userID,
        PlatformID: 3,
        iat: now() - 7200,
        exp: now() - 60,
      });
      const r = await rawDial(direct(), gatewayQuery({ ...u!, token }));
      expect(r).toMatchObject({ kind: "refused", envelope: { errCode: 1501 } });
    });

    test("a token whose nbf lies in the future is refused with 1504", {
      meta: { source: ["tools:tokenverify/jwt_token.go mapValidationError", "docs/openim-protocol.md §4"] },
    }, async (ctx) => {
      skipUnless(ctx, profile.adminAccess, noSecret);
      const [u] = await stack.newUsers(1);
      const token = await signImToken(endpoints.adminSecret, {
        UserID: u!.userID,
        PlatformID: 3,
        exp: now() + 3600,
        nbf: now() + 600,
      });
      const r = await rawDial(direct(), gatewayQuery({ ...u!, token }));
      expect(r).toMatchObject({ kind: "refused", envelope: { errCode: 1504 } });
    });

    test("a validly signed token OpenIM never issued has no Redis record and is refused with 1507", {
      meta: { source: ["server:internal/rpc/auth/auth.go parseToken", "docs/openim-protocol.md §4"] },
    }, async (ctx) => {
      skipUnless(ctx, profile.adminAccess, noSecret);
      // docs/openim-protocol.md §4 1507 — server: internal/rpc/auth/auth.go parseToken (len(m)==0 / not in map)
      const [u] = await stack.newUsers(1);
      const token = await signImToken(endpoints.adminSecret, {
        UserID: u!.userID,
        PlatformID: 3,
        iat: now() - 10,
        exp: now() + 3600,
      });
      const r = await rawDial(direct(), gatewayQuery({ ...u!, token }));
      expect(r).toMatchObject({ kind: "refused", envelope: { errCode: 1507 } });
    });

    test("an HS512 token with the same secret passes the signature check and fails only on the Redis record (1507)", {
      meta: {
        source: [
          "tools:tokenverify/jwt_token.go GetClaimFromToken",
          "server:pkg/authverify/token.go Secret",
          "server:internal/rpc/auth/auth.go parseToken",
          "docs/openim-protocol.md §4",
        ],
      },
    }, async (ctx) => {
      skipUnless(ctx, profile.adminAccess, noSecret);
      // tools: tokenverify GetClaimFromToken — the keyfunc (authverify.Secret) does not pin HS256,
      // so only auth.go parseToken's Redis lookup stops a token OpenIM never issued
      const [u] = await stack.newUsers(1);
      const token = await signImToken(
        endpoints.adminSecret,
        { UserID: u!.userID, PlatformID: 3, exp: now() + 3600 },
        "HS512",
      );
      const r = await rawDial(direct(), gatewayQuery({ ...u!, token }));
      expect(r).toMatchObject({ kind: "refused", envelope: { errCode: 1507 } });
    });
  });
});

describe("heartbeat", () => {
  test('a text {"type":"ping"} is answered by the text frame {"type":"pong","body":null}', {
    meta: {
      source: ["server:internal/msggateway/client.go handlerTextMessage", "docs/openim-protocol.md §1"],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Heartbeat — server: client.go handlerTextMessage (TextMessage{type, body RawMessage})
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!));
    conn.sendText(textPing);
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
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!));
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
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!));
    conn.sendText(JSON.stringify({ type: "pong" }));
    const reply = await conn.request(getMaxSeq(u!));
    expect(reply.errCode).toBe(0);
    expect(conn.frames).toHaveLength(1);
  });

  test("a WebSocket ping control frame is answered by a pong with the same payload", {
    meta: { source: ["server:internal/msggateway/client.go pingHandler", "docs/openim-protocol.md §1"] },
  }, async () => {
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!));
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
      const [u] = await stack.newUsers(1);
      const conn = await rawConnect(direct(), gatewayQuery(u!));
      const frame = text || encodeJsonRequest(getMaxSeq(u!)).toString("utf8");
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
    const [webUser] = await stack.newUsers(1, 5);
    // The kept-alive sockets open first, so their deadlines would fall before the silent one's.
    const textConn = await rawConnect(direct(), gatewayQuery(textUser!));
    const pingConn = await rawConnect(direct(), gatewayQuery(pingUser!));
    const webConn = await rawConnect(direct(), gatewayQuery(webUser!));
    const silent = await rawConnect(direct(), gatewayQuery(silentUser!));
    const beats = setInterval(() => {
      textConn.sendText(textPing);
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
      expect(webConn.pings[0]!.at - webConn.openedAt).toBeGreaterThan(25_000);
      expect(textConn.pings).toEqual([]);
      for (const c of [textConn, pingConn, webConn]) {
        expect(c.isOpen).toBe(true);
        const from = c.frames.length;
        c.sendText(textPing);
        await c.nextFrame((f) => !f.binary && f.data.includes("pong"), 5_000, from);
      }
    } finally {
      clearInterval(beats);
    }
  });
});

describe("frame size", () => {
  const limit = profile.maxMessageSize;
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
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!));
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
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!));
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
    const fits = await rawConnect(direct(), gatewayQuery(u!));
    fits.sendBinary(paddedRequest(u!, limit));
    expect(fits.decode(await fits.nextFrame())).toMatchObject({ reqIdentifier: 1001, errCode: 0 });

    const over = await rawConnect(direct(), gatewayQuery(v!));
    const info = await closesWithoutReply(over, () => over.sendBinary(paddedRequest(v!, limit + 1)));
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
    const conn = await rawConnect(direct(), gatewayQuery(u!, { compression: "gzip" }));
    const reply = await conn.request(getMaxSeq(u!), { gzip: true });
    expect(reply).toMatchObject({ reqIdentifier: 1001, errCode: 0 });
    const sender = await stack.connect(peer!);
    await sender.sendText({ recvID: u!.userID, text: "zipped push" });
    const push = await conn.nextFrame((f) => f.binary && conn.decode(f, true).reqIdentifier === 2001);
    for (const f of conn.frames) expect([...f.data.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    const msgs = PbCoder.PushMessages.decode(conn.decode(push, true).data).msgs;
    const pushed = Object.values(msgs)[0]!.Msgs[0]!;
    expect(decodeText(pushed)).toBe("zipped push");
  });

  test("an HTTP header `compression: gzip` turns gzip on just like the query parameter", {
    meta: { source: ["server:internal/msggateway/context.go GetCompression", "docs/openim-protocol.md §1"] },
  }, async () => {
    // server: context.go GetCompression (query first, then header)
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!), { headers: { compression: "gzip" } });
    const reply = await conn.request(getMaxSeq(u!), { gzip: true });
    expect(reply.errCode).toBe(0);
    expect(gunzipSync(conn.frames[0]!.data).toString("utf8")).toContain('"reqIdentifier":1001');
  });

  test("text frames stay uncompressed under gzip: the pong is plain JSON", {
    meta: {
      source: ["server:internal/msggateway/client.go handlerTextMessage", "docs/openim-protocol.md §1"],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Compression — server: client.go handlerTextMessage writes MessageText directly
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!, { compression: "gzip" }));
    conn.sendText(textPing);
    expect((await conn.nextFrame()).data.toString("utf8")).toBe('{"type":"pong","body":null}');
  });

  test("under gzip an uncompressed binary frame closes the connection without a reply", {
    meta: { source: ["server:internal/msggateway/client.go handleMessage", "docs/openim-protocol.md §1"] },
  }, async () => {
    // server: client.go handleMessage — DecompressWithPool error is returned, readMessage closes
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!, { compression: "gzip" }));
    const info = await closesWithoutReply(conn, () => conn.sendBinary(encodeJsonRequest(getMaxSeq(u!))));
    expect(info.code).toBe(1006);
  });

  test("any compression value other than gzip is ignored: frames travel plain", {
    meta: { source: ["server:internal/msggateway/context.go GetCompression", "docs/openim-protocol.md §1"] },
  }, async () => {
    // server: context.go GetCompression (only "gzip" counts)
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!, { compression: "deflate" }));
    const reply = await conn.request(getMaxSeq(u!));
    expect(reply.errCode).toBe(0);
    expect(conn.frames[0]!.data[0]).toBe(0x7b); // "{"
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
    const ca = await stack.connect(a!, { compression: true });
    const cb = await stack.connect(b!, { compression: true });
    const toB = nextPush(cb, (m) => decodeText(m) === "gz a→b");
    await ca.sendText({ recvID: b!.userID, text: "gz a→b" });
    await toB;
    const toA = nextPush(ca, (m) => decodeText(m) === "gz b→a");
    await cb.sendText({ recvID: a!.userID, text: "gz b→a" });
    expect(Number((await toA).seq)).toBe(2);
  });
});

describe("the frame layer", () => {
  test("a malformed binary frame makes the server close the connection without a reply", {
    meta: { source: ["server:internal/msggateway/client.go handleMessage", "docs/openim-protocol.md §1"] },
  }, async () => {
    // foundation wire test — server: client.go handleMessage (Encoder.Decode error)
    const [u] = await stack.newUsers(1);
    const client = await stack.connect(u!);
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
    const conn = await rawConnect(direct(), gatewayQuery(u!));
    await closesWithoutReply(conn, () =>
      conn.sendBinary(encodeJsonRequest({ ...getMaxSeq(u!), sendID: other!.userID })),
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
      const [u] = await stack.newUsers(1);
      const conn = await rawConnect(direct(), gatewayQuery(u!));
      await closesWithoutReply(conn, () =>
        conn.sendBinary(encodeJsonRequest({ reqIdentifier: id, sendID: u!.userID })),
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
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!));
    const reply = await conn.request({
      reqIdentifier: 1001,
      sendID: u!.userID,
      data: Buffer.from([0xff, 0xff]),
    });
    expect(reply).toMatchObject({ errCode: 500, errMsg: expect.stringContaining("unmarshaling request") });
    expect((await conn.request(getMaxSeq(u!))).errCode).toBe(0);
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
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!));
    const pull = await conn.request({ reqIdentifier: 1002, sendID: u!.userID, operationID: "" });
    expect(pull).toMatchObject({ errCode: 500, errMsg: expect.stringContaining("'Req.OperationID'") });
    expect((await conn.request({ ...getMaxSeq(u!), operationID: "" })).errCode).toBe(0);
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
    const conn = await rawConnect(direct(), gatewayQuery(u!));
    const reply = await conn.request({
      reqIdentifier: 1001,
      sendID: u!.userID,
      data: encodeGetMaxSeqReq({ userID: other!.userID }),
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
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!));
    const reply = await conn.request({ reqIdentifier: 1004, sendID: u!.userID });
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
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(direct(), gatewayQuery(u!));
    const reply = await conn.request({
      reqIdentifier: ReqIdentifier.Logout,
      sendID: u!.userID,
      data: encodeDelUserPushTokenReq({ userID: u!.userID, platformID: 3 }),
    });
    expect(reply).toMatchObject({ reqIdentifier: 2003, errCode: 0 });
    expect(reply.data.length).toBe(0); // push.DelUserPushTokenResp has no fields
    expect((await conn.closedWithin(5_000)).code).toBe(1006);
  });
});

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
    const conversationID = singleConversationID(a!.userID, b!.userID);
    const sender = await stack.connect(a!);
    const first = await stack.connect(b!);
    const arrived = nextPush(first, (m) => decodeText(m) === "before");
    await sender.sendText({ recvID: b!.userID, text: "before" });
    const lastSeen = Number((await arrived).seq);
    await first.close();

    await sender.sendText({ recvID: b!.userID, text: "missed 1" });
    await sender.sendText({ recvID: b!.userID, text: "missed 2" });
    // seq is assigned in msgtransfer, 60–580 ms after the ack (observed)
    expect((await newestSettled(sender, conversationID, lastSeen + 2)).maxSeqs[conversationID]).toBe(
      lastSeen + 2,
    );

    const again = await stack.connect(b!);
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
    const conversationID = singleConversationID(a!.userID, b!.userID);
    const sender = await stack.connect(a!);
    const receiver = await stack.connect(b!, { reconnect: { initialDelayMs: 3_000, maxAttempts: 3 } });
    const got: Array<[number, string | undefined, string]> = [];
    receiver.on("push", (msgs, source) => {
      for (const m of msgs) got.push([Number(m.seq), decodeText(m), source]);
    });
    const first = nextPush(receiver, (m) => decodeText(m) === "m0");
    await sender.sendText({ recvID: b!.userID, text: "m0" });
    await first;

    const reconnecting = new Promise<{ code: number }>((r) => receiver.once("reconnecting", r));
    const reconnected = new Promise<{ caughtUp: number }>((r) => receiver.once("reconnected", r));
    receiver.sendRawFrame(new Uint8Array([0x7b]), true);
    expect((await reconnecting).code).toBe(1006);
    // while it waits (≥1.5 s) two messages are sent and get their seqs
    await sender.sendText({ recvID: b!.userID, text: "m1" });
    await sender.sendText({ recvID: b!.userID, text: "m2" });
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
    needsPolicy(ctx, 1);
    // docs/openim-protocol.md §1 Multi-login — server: ws_server.go registerClient → multiTerminalLoginChecker
    // (AllLoginButSameTermKick), client.go KickOnlineMessage
    const [u] = await stack.newUsers(1, 3);
    const first = await rawConnect(direct(), gatewayQuery(u!));
    const second = await rawConnect(direct(), gatewayQuery(u!));
    const info = await first.closedWithin(5_000);
    expect(info.code).toBe(1006);
    expect(first.frames).toHaveLength(1);
    expect(JSON.parse(first.frames[0]!.data.toString("utf8"))).toEqual({
      reqIdentifier: 2002,
      msgIncr: "",
      operationID: "",
      errCode: 0,
      errMsg: "",
      data: null,
    });
    expect((await second.request(getMaxSeq(u!))).errCode).toBe(0);
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
    needsPolicy(ctx, 1);
    // server: controller/auth.go CreateToken marks the old token kicked in Redis, but only
    // registerClient (ws_server.go) drops a live connection
    const [u] = await stack.newUsers(1, 3);
    const old = await stack.connect(u!);
    await nextSecond();
    const newer = await getUserToken(stack.rest, stack.adminToken, u!.userID, 3);
    expect((await old.getNewestSeq()).maxSeqs).toEqual({});
    const kicked = closed(old);
    await stack.connect({ ...u!, token: newer.token });
    expect(await kicked).toMatchObject({ code: 1006, wasKicked: true });
    await expect(stack.connect(u!)).rejects.toMatchObject({ errCode: 1506 });
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
    needsPolicy(ctx, 0, 1);
    const [u, peer] = await stack.newUsers(2, 3);
    const tokens = await Promise.all(
      [2, 5].map((p) => getUserToken(stack.rest, stack.adminToken, u!.userID, p)),
    );
    const conns = [
      await stack.connect(u!),
      await stack.connect({ ...u!, token: tokens[0]!.token, platformID: 2 }),
      await stack.connect({ ...u!, token: tokens[1]!.token, platformID: 5 }),
    ];
    const arrivals = conns.map((c) => nextPush(c, (m) => decodeText(m) === "to every device"));
    const sender = await stack.connect(peer!);
    await sender.sendText({ recvID: u!.userID, text: "to every device" });
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
    needsPolicy(ctx, 1);
    // proto: constant.AllLoginButSameTermKick vs AllLoginButSameClassKick (4) — server: multiTerminalLoginChecker
    const [u] = await stack.newUsers(1, 3);
    const osx = await getUserToken(stack.rest, stack.adminToken, u!.userID, 4);
    const win = await stack.connect(u!);
    const mac = await stack.connect({ ...u!, token: osx.token, platformID: 4 });
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
    needsPolicy(ctx, 0);
    const [u] = await stack.newUsers(1, 3);
    const first = await stack.connect(u!);
    const second = await stack.connect(u!);
    await Promise.all([first.getNewestSeq(), second.getNewestSeq()]);
    expect(first.isOpen && second.isOpen).toBe(true);
  });
});

describe("the WebSocket path goes straight to OpenIM", () => {
  test("a client through nginx's wsURL and a client on OpenIM's own port exchange messages both ways", {
    meta: {
      source: ["cutover:src/stack/nginx-config.ts", "server:internal/msggateway/ws_server.go wsHandler"],
    },
  }, async () => {
    // foundation wire test; stack/nginx-config.ts routes /msg_gateway to the msg gateway
    const [viaNginx, viaDirect] = await stack.newUsers(2);
    const n = await stack.connect(viaNginx!, { via: "nginx" });
    const d = await stack.connect(viaDirect!, { via: "direct" });
    const atDirect = nextPush(d, (m) => m.sendID === viaNginx!.userID);
    await n.sendText({ recvID: viaDirect!.userID, text: "nginx → direct" });
    expect(decodeText(await atDirect)).toBe("nginx → direct");
    const atNginx = nextPush(n, (m) => m.sendID === viaDirect!.userID);
    await d.sendText({ recvID: viaNginx!.userID, text: "direct → nginx" });
    expect(decodeText(await atNginx)).toBe("direct → nginx");
  });

  test("nginx passes OpenIM's own handshake answers through unchanged (1602 body, isMsgResp frame)", {
    meta: {
      source: [
        "cutover:src/stack/nginx-config.ts",
        "server:internal/msggateway/http_error.go httpError",
        "server:internal/msggateway/long_conn.go RespondWithSuccess",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // the gateway is not in the WS path, so the refusal is OpenIM's envelope, not a gateway error
    const [u] = await stack.newUsers(1);
    const refused = await rawDial(endpoints.wsURL, gatewayQuery(u!, { token: undefined }));
    expect(refused).toMatchObject({ kind: "refused", status: 200, envelope: { errCode: 1602 } });
    const ok = await rawConnect(endpoints.wsURL, gatewayQuery(u!, { isMsgResp: "true" }));
    expect((await ok.nextFrame()).data.toString("utf8")).toBe('{"errCode":0,"errMsg":"","errDlt":""}');
  });

  test("through nginx an oversized frame still closes the connection without a reply (1009, or 1006 when nginx drops the close frame)", {
    meta: {
      source: [
        "cutover:src/stack/nginx-config.ts",
        "server:internal/msggateway/client.go readMessage",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // server: client.go SetReadLimit → close 1009 then TCP close with the frame's rest unread; direct clients always
    // saw 1009, clients behind nginx saw 1006 in about 4 of 10 tries (observed on the local stack)
    const [u] = await stack.newUsers(1);
    const conn = await rawConnect(endpoints.wsURL, gatewayQuery(u!));
    const info = await closesWithoutReply(conn, () =>
      conn.sendBinary(Buffer.alloc(profile.maxMessageSize + 1, 0x20)),
    );
    expect([1009, 1006]).toContain(info.code);
  });

  test("the gateway never sees an upgrade: its traffic counters stay put while clients connect through nginx", {
    meta: {
      source: [
        "gateway:reference/gateway/src/server.ts GET /api/admin/traffic",
        "cutover:src/stack/nginx-config.ts",
      ],
    },
  }, async (ctx) => {
    skipUnless(
      ctx,
      endpoints.gatewayAdmin !== undefined,
      "the target offers no gateway admin account to read /api/admin/traffic",
    );
    // reference/gateway/src/server.ts GET /api/admin/traffic {upgradeAttempts, msgGatewayRequests}
    const jwt = await stack.adminJwt();
    type Traffic = { upgradeAttempts: number; msgGatewayRequests: number };
    const before = (await stack.gateway.admin(jwt, "GET", "traffic")) as Traffic;
    const [a, b] = await stack.newUsers(2);
    const ca = await stack.connect(a!);
    const cb = await stack.connect(b!);
    const got = inbox(cb);
    await ca.sendText({ recvID: b!.userID, text: "counted?" });
    await rawDial(endpoints.wsURL, gatewayQuery(a!, { platformID: "x" }));
    expect(await eventually(() => got.length === 1)).toBe(true);
    const after = (await stack.gateway.admin(jwt, "GET", "traffic")) as Traffic;
    expect(after.upgradeAttempts).toBe(before.upgradeAttempts);
    expect(after.msgGatewayRequests).toBe(before.msgGatewayRequests);
  });
});
