import { PbCoder } from "@openim/protocol";
import { describe, expect, test } from "vitest";
import { decodeText, getUserToken, OpenImError, parseToken } from "../src/protocol/index.js";
import { TEXT_PING } from "../src/protocol/ws-frames.js";
import { eventually, inbox, nextPush } from "./support/fixtures.js";
import { signImToken } from "./support/im-token.js";
import { at } from "./support/lists.js";
import { encodeJsonRequest, gatewayQuery, rawConnect, rawDial } from "./support/raw-ws.js";
import { skipUnless } from "./support/skip.js";
import { useStack } from "./support/stack.js";
import { closesWithoutReply, getMaxSeq, nextSecond } from "./support/websocket.js";

// Suite `websocket-handshake`: how a client gets onto OpenIM's message gateway — the upgrade and
// its query, the encoder it picks, the handshake's auth answers, and the WebSocket path from
// nginx straight to OpenIM, bypassing the gateway.
// Facts: docs/openim-protocol.md §1, §4; server: internal/msggateway/ws_server.go, context.go (v3.8.3).
const stack = useStack();

/** OpenIM's message gateway without nginx in front: the handshake as OpenIM itself answers it. */
const direct = () => stack.endpoints.openimWs;

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
      const u = await stack.user();
      const r = await rawDial(direct(), gatewayQuery(u, drop));
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
    const u = await stack.user();
    const r = await rawDial(direct(), gatewayQuery(u, { sdkType: "swift", isMsgResp: "true" }));
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
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u, { isMsgResp: "true" }));
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
      const u = await stack.user();
      const conn = await rawConnect(direct(), gatewayQuery(u, { isMsgResp }));
      conn.sendText(TEXT_PING);
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
    const conn = await rawConnect(direct(), gatewayQuery(u, { sdkType: undefined }));
    const sender = await stack.connect(peer);
    await sender.sendText({ recvID: u.userID, text: "to a gob client" });
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
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u, { sdkType: "go" }));
    const info = await closesWithoutReply(conn, () => conn.sendBinary(encodeJsonRequest(getMaxSeq(u))));
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
    const u = await stack.user();
    const conn = await rawConnect(direct(), gatewayQuery(u));
    conn.sendBinary(
      encodeJsonRequest({ ...getMaxSeq(u), msgIncr: "incr-42", operationID: "op-websocket-echo" }),
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
    const u = await stack.user();
    const conn = await rawConnect(`${direct()}/any/path/at/all`, gatewayQuery(u, { isMsgResp: "true" }));
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
    const u = await stack.user(3);
    const parsed = await parseToken(stack.rest, u.token);
    expect(parsed).toMatchObject({ userID: u.userID, platformID: 3 });
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
    const u = await stack.user();
    const r = await rawDial(direct(), gatewayQuery({ ...u, token: forge(u.token) }));
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
    const u = await stack.user();
    const r = await rawDial(direct(), gatewayQuery({ ...u, token: forge(u.token) }, { isMsgResp: "true" }));
    expect(r.kind).toBe("upgraded");
    if (r.kind !== "upgraded") return;
    const info = await r.conn.closedWithin(5_000);
    expect(r.conn.frames).toHaveLength(1);
    expect(at(r.conn.frames, 0).binary).toBe(false);
    expect(JSON.parse(at(r.conn.frames, 0).data.toString("utf8"))).toMatchObject({ errCode: 1505 });
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
    const u = await stack.user();
    const forged = { ...u, token: forge(u.token) };
    const ws = await stack.connect(forged).catch((err: unknown) => err);
    expect(ws).toBeInstanceOf(OpenImError);
    expect((ws as OpenImError).errCode).toBe(1505);
    const rest = await stack.rest
      .call("user/get_users_info", { userIDs: [u.userID] }, { token: forged.token })
      .catch((e: unknown) => e);
    expect(rest).toBeInstanceOf(OpenImError);
    expect((rest as OpenImError).errCode).toBe(1505);
  });

  test("a token that is not a JWT is refused with 1503", {
    meta: { source: ["tools:tokenverify/jwt_token.go mapValidationError", "docs/openim-protocol.md §4"] },
  }, async () => {
    const u = await stack.user();
    const r = await rawDial(direct(), gatewayQuery({ ...u, token: "not.a-token" }));
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
    const r = await rawDial(direct(), gatewayQuery({ ...a, token: b.token }, { isMsgResp: "true" }));
    expect(r).toMatchObject({
      kind: "refused",
      status: 200,
      envelope: { errCode: 1502, errDlt: expect.stringContaining("token uid") },
    });
    await expect(stack.connect({ ...a, token: b.token })).rejects.toMatchObject({ errCode: 1502 });
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
    const u = await stack.user(3);
    const r = await rawDial(direct(), gatewayQuery(u, { platformID: "4" }));
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
    stack.requiresMultiLogin(ctx, 1);
    // docs/openim-protocol.md §1 Multi-login, "At token issuance" — server: storage/controller/auth.go CreateToken
    const u = await stack.user(3);
    await nextSecond();
    const newer = await getUserToken(stack.rest, stack.adminToken, u.userID, 3);
    expect(newer.token).not.toBe(u.token);
    const attempt = await stack.connect(u).catch((err: unknown) => err);
    expect(attempt).toBeInstanceOf(OpenImError);
    expect((attempt as OpenImError).errCode).toBe(1506);
  });

  describe("tokens signed with OpenIM's secret but never issued", () => {
    const noSecret = "the profile forbids admin access, so OpenIM's secret may not be used to sign tokens";
    const now = () => Math.floor(Date.now() / 1000);

    test("an expired token is refused with 1501", {
      meta: { source: ["tools:tokenverify/jwt_token.go mapValidationError", "docs/openim-protocol.md §4"] },
    }, async (ctx) => {
      stack.requires(ctx, "adminAccess", noSecret);
      const u = await stack.user();
      const token = await signImToken(stack.endpoints.adminSecret, {
        UserID: u.userID,
        PlatformID: 3,
        iat: now() - 7200,
        exp: now() - 60,
      });
      const r = await rawDial(direct(), gatewayQuery({ ...u, token }));
      expect(r).toMatchObject({ kind: "refused", envelope: { errCode: 1501 } });
    });

    test("a token whose nbf lies in the future is refused with 1504", {
      meta: { source: ["tools:tokenverify/jwt_token.go mapValidationError", "docs/openim-protocol.md §4"] },
    }, async (ctx) => {
      stack.requires(ctx, "adminAccess", noSecret);
      const u = await stack.user();
      const token = await signImToken(stack.endpoints.adminSecret, {
        UserID: u.userID,
        PlatformID: 3,
        exp: now() + 3600,
        nbf: now() + 600,
      });
      const r = await rawDial(direct(), gatewayQuery({ ...u, token }));
      expect(r).toMatchObject({ kind: "refused", envelope: { errCode: 1504 } });
    });

    test("a validly signed token OpenIM never issued has no Redis record and is refused with 1507", {
      meta: { source: ["server:internal/rpc/auth/auth.go parseToken", "docs/openim-protocol.md §4"] },
    }, async (ctx) => {
      stack.requires(ctx, "adminAccess", noSecret);
      // docs/openim-protocol.md §4 1507 — server: internal/rpc/auth/auth.go parseToken (len(m)==0 / not in map)
      const u = await stack.user();
      const token = await signImToken(stack.endpoints.adminSecret, {
        UserID: u.userID,
        PlatformID: 3,
        iat: now() - 10,
        exp: now() + 3600,
      });
      const r = await rawDial(direct(), gatewayQuery({ ...u, token }));
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
      stack.requires(ctx, "adminAccess", noSecret);
      // tools: tokenverify GetClaimFromToken — the keyfunc (authverify.Secret) does not pin HS256,
      // so only auth.go parseToken's Redis lookup stops a token OpenIM never issued
      const u = await stack.user();
      const token = await signImToken(
        stack.endpoints.adminSecret,
        { UserID: u.userID, PlatformID: 3, exp: now() + 3600 },
        "HS512",
      );
      const r = await rawDial(direct(), gatewayQuery({ ...u, token }));
      expect(r).toMatchObject({ kind: "refused", envelope: { errCode: 1507 } });
    });
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
    const n = await stack.connect(viaNginx, { via: "nginx" });
    const d = await stack.connect(viaDirect, { via: "direct" });
    const atDirect = nextPush(d, (m) => m.sendID === viaNginx.userID);
    await n.sendText({ recvID: viaDirect.userID, text: "nginx → direct" });
    expect(decodeText(await atDirect)).toBe("nginx → direct");
    const atNginx = nextPush(n, (m) => m.sendID === viaDirect.userID);
    await d.sendText({ recvID: viaNginx.userID, text: "direct → nginx" });
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
    const u = await stack.user();
    const refused = await rawDial(stack.endpoints.wsURL, gatewayQuery(u, { token: undefined }));
    expect(refused).toMatchObject({ kind: "refused", status: 200, envelope: { errCode: 1602 } });
    const ok = await rawConnect(stack.endpoints.wsURL, gatewayQuery(u, { isMsgResp: "true" }));
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
    const u = await stack.user();
    const conn = await rawConnect(stack.endpoints.wsURL, gatewayQuery(u));
    const info = await closesWithoutReply(conn, () =>
      conn.sendBinary(Buffer.alloc(stack.profile.maxMessageSize + 1, 0x20)),
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
      stack.endpoints.gatewayAdmin !== undefined,
      "the target offers no gateway admin account to read /api/admin/traffic",
    );
    // reference/gateway/src/server.ts GET /api/admin/traffic {upgradeAttempts, msgGatewayRequests}
    type Traffic = { upgradeAttempts: number; msgGatewayRequests: number };
    const before = await stack.admin<Traffic>("GET", "traffic");
    const [a, b] = await stack.newUsers(2);
    const ca = await stack.connect(a);
    const cb = await stack.connect(b);
    const got = inbox(cb);
    await ca.sendText({ recvID: b.userID, text: "counted?" });
    await rawDial(stack.endpoints.wsURL, gatewayQuery(a, { platformID: "x" }));
    expect(await eventually(() => got.length === 1)).toBe(true);
    const after = await stack.admin<Traffic>("GET", "traffic");
    expect(after.upgradeAttempts).toBe(before.upgradeAttempts);
    expect(after.msgGatewayRequests).toBe(before.msgGatewayRequests);
  });
});
