import { request } from "undici";
import { describe, expect, test } from "vitest";
import { gatewayClient } from "../src/drivers/gateway-client.js";
import { encodeGetMaxSeqReq } from "../src/protocol/hand-coders.js";
import {
  decodeText,
  groupConversationID,
  newClientMsgID,
  newOperationID,
  type OpenImWsClient,
  type ReceivedMsg,
  ReqIdentifier,
  registerUsers,
  type SeqRangeRequest,
  singleConversationID,
} from "../src/protocol/index.js";
import { TEXT_PING } from "../src/protocol/ws-frames.js";
import { asTestUser, eventually, nextPush } from "./support/fixtures.js";
import { groupInfo, newGroup, refusal, restAs } from "./support/groups.js";
import { skipUnless } from "./support/skip.js";
import { useStack } from "./support/stack.js";

// Suite `security-input`: negative cases about hostile input. Injection strings in every field,
// frames built to break the gateway, REST calls without their headers and a message a webhook
// denies are stored as data or refused with a code, and nothing else breaks. Where the stack
// lets something through, the case asserts what it does and says "(finding)".
const stack = useStack();

const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const text = (t: string) => (m: ReceivedMsg) => decodeText(m) === t;

/** Hostile strings, by family (each also goes through JSON, protobuf, Redis, Mongo and back). */
const PAYLOADS = [
  ["SQL", "' OR '1'='1' --; DROP TABLE users; --"],
  ["NoSQL operator", '{"$gt":""} {"$where":"sleep(1000)"}'],
  ["JSON-breaking", '"}],"errCode":0,"data":{"x":"'],
  ["path traversal", "../../../../etc/passwd%00..%2f..%2f"],
  ["CRLF header", "a\r\nX-Injected: 1\r\n\r\nbody"],
  ["script", '<script>alert(1)</script><img src=x onerror="alert(2)">'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal ${…} is the payload
  ["template and JNDI", "${jndi:ldap://127.0.0.1/x} {{7*7}} #{7*7}"],
  ["NUL and control", "nul\u0000byte\u0007\u001b[31m"],
] as const satisfies ReadonlyArray<readonly [family: string, payload: string]>;

/** A 1002 pull, repeated (bounded) until it answers something: conversation records land after the push. */
async function pullUntil(ws: OpenImWsClient, range: SeqRangeRequest): Promise<ReceivedMsg[]> {
  let got: ReceivedMsg[] = [];
  await eventually(async () => {
    got = (await ws.pullBySeqs([range])).messages;
    return got.length > 0;
  });
  return got;
}

describe("injection strings are stored as data or refused", () => {
  test.each(PAYLOADS)(
    "a text holding a %s payload is delivered and pulled back byte for byte",
    {
      meta: {
        source: [
          "proto:sdkws/sdkws.proto MsgData",
          "server:internal/rpc/msg/sync_msg.go PullMessageBySeqs",
          "docs/openim-protocol.md §2",
        ],
      },
    },
    async (_family, payload) => {
      // docs/openim-protocol.md §2 content JSON ({"content":…}) and MsgData.ex — server stores content bytes as sent
      const [a, b] = await stack.newUsers(2);
      const [wa, wb] = await Promise.all([stack.connect(a), stack.connect(b)]);
      const arrival = nextPush(wb, text(payload));
      const ack = await wa.sendText({ recvID: b.userID, text: payload, ex: payload });
      const pushed = await arrival;
      expect(pushed).toMatchObject({ ex: payload, clientMsgID: ack.clientMsgID, sendID: a.userID });
      // The conversation record a pull needs is written by msgtransfer, shortly after the push.
      const pulled = await pullUntil(wb, {
        conversationID: pushed.conversationID,
        begin: pushed.seq,
        end: pushed.seq,
      });
      expect(pulled.map((m) => [decodeText(m), m.ex])).toEqual([[payload, payload]]);
      // Nothing else broke: the same pair keeps talking.
      const after = nextPush(wb, text("still fine"));
      await wa.sendText({ recvID: b.userID, text: "still fine" });
      expect((await after).seq).toBe(pushed.seq + 1);
    },
  );

  test("injection strings used as groupIDs are stored and answered verbatim, and those groups carry messages", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go CreateGroup",
        "server:internal/rpc/group/group.go GenGroupID",
        "server:pkg/common/storage/database/mgo/version_log.go writeLogBatch2",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 group/create_group (groupID taken as given) — server: group.go CreateGroup, GenGroupID
    const [owner, member] = await stack.newUsers(2);
    const [wOwner, wMember] = await Promise.all([stack.connect(owner), stack.connect(member)]);
    const suffix = unique();
    for (const [family, payload] of PAYLOADS) {
      // The suffix leads. A groupID starting with "$" is not stored as given: OpenIM's version log
      // (server: pkg/common/storage/database/mgo/version_log.go writeLogBatch2) puts IDs into an
      // aggregation pipeline without $literal, so Mongo evaluates "$…" as a field path (finding;
      // the Mongo stand-in fails that update and create_group answers 500 with the group half made).
      const groupID = `${suffix}${payload}`;
      const created = await restAs(stack, owner)<{ groupInfo: { groupID: string } }>("group/create_group", {
        ownerUserID: owner.userID,
        memberUserIDs: [member.userID],
        adminUserIDs: [],
        groupInfo: { groupID, groupName: family, groupType: 2 },
      });
      expect(created.groupInfo.groupID, family).toBe(groupID);
      expect((await groupInfo(stack, groupID)).groupName, family).toBe(family);
      const t = `in ${family} ${suffix}`;
      const arrival = nextPush(wMember, text(t));
      await wOwner.sendText({ groupID, text: t });
      expect((await arrival).conversationID, family).toBe(groupConversationID(groupID));
    }
  });

  test("group name, introduction, notification and ex holding injection strings are answered verbatim", {
    meta: {
      source: [
        "server:internal/rpc/group/group.go SetGroupInfo",
        "proto:wrapperspb/wrapperspb.go UnmarshalJSON",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 group/set_group_info (ex is a wrapper taking a plain string)
    const g = await newGroup(stack, { members: 1, settle: false });
    const [name, intro, notice, ex] = [PAYLOADS[0][1], PAYLOADS[5][1], PAYLOADS[4][1], PAYLOADS[1][1]];
    await restAs(stack, g.owner)("group/set_group_info", {
      groupInfoForSet: { groupID: g.groupID, groupName: name, introduction: intro, notification: notice, ex },
    });
    expect(await groupInfo(stack, g.groupID)).toMatchObject({
      groupName: name,
      introduction: intro,
      notification: notice,
      ex,
    });
  });

  test("nicknames and ex holding injection strings are registered and answered verbatim", {
    meta: {
      source: [
        "server:internal/rpc/user/user.go UserRegister",
        "server:internal/rpc/user/user.go GetDesignateUsers",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 user/user_register (nickname non-empty, otherwise free text), user/get_users_info
    const users = PAYLOADS.map(([, payload], i) => ({
      userID: `inj_${unique()}_${i}`,
      nickname: payload,
      ex: payload,
    }));
    await registerUsers(stack.rest, stack.adminToken, users);
    const got = await stack.rest.call<{ usersInfo: Array<{ userID: string; nickname: string; ex: string }> }>(
      "user/get_users_info",
      { userIDs: users.map((u) => u.userID) },
      { token: stack.adminToken },
    );
    const byID = Object.fromEntries(got.usersInfo.map((u) => [u.userID, [u.nickname, u.ex]]));
    for (const u of users) expect(byID[u.userID]).toEqual([u.nickname, u.ex]);
  });

  test("illegal userIDs (injection strings, '-', ':', spaces) are refused at registration with 1001", {
    meta: {
      source: [
        "proto:user/user.go UserRegisterReq",
        "proto:util/datautil/string.go IsLegalUserID",
        "docs/openim-protocol.md §3",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §3 user/user_register Check() — proto: util/datautil/string.go IsLegalUserID
    const illegal = [
      ...PAYLOADS.map(([, p]) => p),
      `with-dash-${unique()}`,
      `with:colon:${unique()}`,
      `with space ${unique()}`,
    ];
    for (const userID of illegal) {
      const err = await refusal(registerUsers(stack.rest, stack.adminToken, [{ userID, nickname: "x" }]));
      expect(err.errCode, JSON.stringify(userID)).toBe(1001);
    }
  });

  test("the gateway refuses to register an illegal userID (400) before OpenIM sees it", {
    meta: {
      source: [
        "gateway:reference/gateway/src/http-input.ts userIDSchema",
        "gateway:reference/gateway/src/login-routes.ts POST /api/auth/register",
      ],
    },
  }, async () => {
    for (const userID of ["' OR '1'='1", "../etc/passwd", `a-b-${unique()}`]) {
      await expect(stack.gateway.register(userID, "a-long-enough-password")).rejects.toMatchObject({
        status: 400,
      });
    }
  });

  test("a JSON operator object where a string is expected is refused with 1001 (no NoSQL operator reaches a query)", {
    meta: { source: ["tools:a2r/api2rpc.go Call", "docs/openim-protocol.md §3"] },
  }, async () => {
    // docs/openim-protocol.md §3 "A bad body gives 1001 with the decode error as errMsg" — tools: a2r/api2rpc.go Call
    const u = await stack.user();
    const as = restAs(stack, u);
    const users = await refusal(as("user/get_users_info", { userIDs: [{ $ne: null }] }));
    expect(users.errCode).toBe(1001);
    expect(users.errMsg).toEqual(expect.stringContaining("cannot unmarshal object"));
    const members = await refusal(
      as("group/get_group_member_list", {
        groupID: { $ne: "" },
        pagination: { pageNumber: 1, showNumber: 10 },
      }),
    );
    expect(members.errCode).toBe(1001);
  });

  test("injection strings as lookup keys match nothing: get_users_info answers only the real user", {
    meta: { source: ["server:internal/rpc/user/user.go GetDesignateUsers", "docs/openim-protocol.md §3"] },
  }, async () => {
    // docs/openim-protocol.md §3 user/get_users_info ("Unknown IDs are simply absent")
    const u = await stack.user();
    const got = await restAs(stack, u)<{ usersInfo: Array<{ userID: string }> | null }>(
      "user/get_users_info",
      {
        userIDs: ["' OR '1'='1", ".*", '{"$ne":null}', "*", u.userID],
      },
    );
    expect((got.usersInfo ?? []).map((x) => x.userID)).toEqual([u.userID]);
  });

  test("a clientMsgID holding an injection string is echoed verbatim in the ack and the push", {
    meta: { source: ["server:internal/rpc/msg/send.go SendMsg", "docs/openim-protocol.md §2"] },
  }, async () => {
    // docs/openim-protocol.md §2 ("The server does not generate clientMsgID on the WS path") — server: msg/send.go
    const [a, b] = await stack.newUsers(2);
    const [wa, wb] = await Promise.all([stack.connect(a), stack.connect(b)]);
    const clientMsgID = `${PAYLOADS[0][1]}${unique()}`;
    const arrival = nextPush(wb, (m) => m.clientMsgID === clientMsgID);
    const ack = await wa.sendText({ recvID: b.userID, text: "odd id", clientMsgID });
    expect(ack.clientMsgID).toBe(clientMsgID);
    expect(decodeText(await arrival)).toBe("odd id");
  });
});

describe("frames the gateway must survive", () => {
  test("a frame of exactly the read limit is answered; one byte more closes the connection", {
    meta: {
      source: [
        "server:internal/msggateway/constant.go maxMessageSize",
        "server:internal/msggateway/client.go readMessage",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Message size (maxMessageSize 51200, conn.SetReadLimit) — server: msggateway/client.go readMessage
    const u = await stack.user();
    const sock = await stack.raw(u);
    const data = encodeGetMaxSeqReq({ userID: u.userID });
    const limit = stack.profile.maxMessageSize;
    expect(sock.frame({ reqIdentifier: ReqIdentifier.GetNewestSeq, data }, limit)).toHaveLength(limit);
    const reply = await sock.request({ reqIdentifier: ReqIdentifier.GetNewestSeq, data }, { size: limit });
    expect(reply.errCode).toBe(0);
    expect(sock.isOpen).toBe(true);
    sock.send(sock.frame({ reqIdentifier: ReqIdentifier.GetNewestSeq, data }, limit + 1));
    // 1009 Message Too Big; 1006 when the close frame is lost to the reset of the unread bytes.
    expect([1009, 1006]).toContain((await sock.closed).code);
  });

  test("a valid envelope carrying malformed protobuf gets errCode 500 and the connection stays open", {
    meta: {
      source: [
        "server:internal/msggateway/message_handler.go SendMessage",
        "server:internal/msggateway/message_handler.go PullMessageBySeqList",
        "tools:apiresp/resp.go ParseError",
        "docs/openim-protocol.md §1",
      ],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Malformed frames ("the inner data protobuf is bad … keeps the connection open"; 500)
    const u = await stack.user();
    const ws = await stack.connect(u);
    for (const reqIdentifier of [ReqIdentifier.SendMsg, ReqIdentifier.PullMsgBySeqList]) {
      const err = await refusal(ws.request(reqIdentifier, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x01])));
      expect(err.errCode).toBe(500);
      expect(err.errMsg).toEqual(expect.stringContaining("cannot parse invalid wire-format data"));
    }
    expect(ws.isOpen).toBe(true);
    await expect(ws.getNewestSeq()).resolves.toBeDefined();
  });

  test("a binary frame that is not a JSON envelope closes the connection without a reply", {
    meta: { source: ["server:internal/msggateway/client.go handleMessage", "docs/openim-protocol.md §1"] },
  }, async () => {
    // docs/openim-protocol.md §1 Malformed frames ("envelope decode error" closes) — server: client.go handleMessage
    const u = await stack.user();
    const sock = await stack.raw(u);
    sock.send(Buffer.from("\u0000\u0001 this is not json {"), true);
    expect((await sock.closed).code).toBeGreaterThanOrEqual(1000);
    expect(sock.frames).toEqual([]);
  });

  test("an unknown reqIdentifier closes the connection without a reply", {
    meta: { source: ["server:internal/msggateway/client.go handleMessage", "docs/openim-protocol.md §1"] },
  }, async () => {
    // docs/openim-protocol.md §1 ("unknown reqIdentifier (error \"ReqIdentifier failed,...\")") — server: client.go handleMessage
    const u = await stack.user();
    const sock = await stack.raw(u);
    sock.send(sock.frame({ reqIdentifier: 4242 }));
    await sock.closed;
    expect(sock.frames).toEqual([]);
  });

  test("a text frame other than ping or pong closes the connection (a text ping alone does not)", {
    meta: {
      source: ["server:internal/msggateway/client.go handlerTextMessage", "docs/openim-protocol.md §1"],
    },
  }, async () => {
    // docs/openim-protocol.md §1 Heartbeat ("Any other text type, or invalid JSON → connection closed") — server: client.go handlerTextMessage
    const u = await stack.user();
    const sock = await stack.raw(u);
    sock.send(TEXT_PING, false);
    await expect(
      sock.request({
        reqIdentifier: ReqIdentifier.GetNewestSeq,
        data: encodeGetMaxSeqReq({ userID: u.userID }),
      }),
    ).resolves.toMatchObject({ errCode: 0 });
    sock.send(JSON.stringify({ type: "<script>" }), false);
    await sock.closed;
    expect(sock.isOpen).toBe(false);
  });
});

describe("REST headers", () => {
  const post = (headers: Record<string, string>) =>
    request(`${stack.endpoints.openimApi}/user/get_users_info`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ userIDs: ["anyone"] }),
    }).then(async (r) => ({ status: r.statusCode, body: JSON.parse(await r.body.text()) as unknown }));

  test('a REST call without an operationID header is refused with 1001 ("header must have operationID")', {
    meta: { source: ["tools:mw/gin.go GinParseOperationID", "docs/openim-protocol.md §3"] },
  }, async () => {
    // docs/openim-protocol.md §3 Headers — tools: mw/gin.go GinParseOperationID
    const u = await stack.user();
    const res = await post({ token: u.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      errCode: 1001,
      errDlt: expect.stringContaining("header must have operationID"),
    });
  });

  test('a REST call without a token header is refused with 1001 ("header must have token")', {
    meta: { source: ["server:internal/api/router.go GinParseToken", "docs/openim-protocol.md §3"] },
  }, async () => {
    // docs/openim-protocol.md §3 Headers — server: internal/api/router.go GinParseToken
    const res = await post({ operationID: newOperationID() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      errCode: 1001,
      errDlt: expect.stringContaining("header must have token"),
    });
  });
});

describe("webhook deny", () => {
  test("a denied message takes no seq and is not stored: the next allowed one is seq 1, and the deny is recorded", {
    meta: {
      source: [
        "server:internal/rpc/msg/verify.go messageVerification",
        "server:internal/rpc/msg/callback.go webhookBeforeSendSingleMsg",
        "gateway:reference/gateway/src/moderation.ts decide",
        "docs/openim-protocol.md §6",
      ],
    },
  }, async (ctx) => {
    stack.requires(ctx, "gatewayAdmin");
    stack.requires(ctx, "moderationWebhooks");
    // docs/openim-protocol.md §6 before-send is synchronous (before the message reaches msgtransfer) — server: msg/send.go
    const word = `verboten${unique()}`;
    await stack.admin("POST", "moderation/banned-words", { add: [word] });
    const [a, b] = await stack.gatewayUsers(2);
    const [wa, wb] = await Promise.all([stack.connect(asTestUser(a)), stack.connect(asTestUser(b))]);
    const clientMsgID = newClientMsgID();
    await expect(wa.sendText({ recvID: b.userID, text: `${word}!`, clientMsgID })).rejects.toMatchObject({
      errCode: stack.profile.moderationDenyErrCode,
    });
    const events = await stack.admin<{ events: Array<{ decision: string; reason?: string }> }>(
      "GET",
      `moderation?clientMsgID=${clientMsgID}`,
    );
    expect(events.events).toMatchObject([{ decision: "deny", reason: "message contains a banned word" }]);
    const arrival = nextPush(wb, text("allowed"));
    await wa.sendText({ recvID: b.userID, text: "allowed" });
    expect((await arrival).seq).toBe(1);
    const pulled = await pullUntil(wb, {
      conversationID: singleConversationID(a.userID, b.userID),
      begin: 1,
      end: 10,
    });
    expect(pulled.map((m) => decodeText(m))).toEqual(["allowed"]);
  });
});

describe("hostile input the fuzzer found (cutover fuzz)", () => {
  test("the legacy chat service refuses a NUL in a message, a groupID or a group name with 400, never a database error", {
    meta: {
      source: [
        "legacy:reference/legacy/src/protocol.ts sendBodySchema",
        "legacy:reference/legacy/src/chat-server.ts",
      ],
    },
  }, async (ctx) => {
    // Finding of `cutover fuzz legacy --seed 19`: {"groupID":"\u0000"} reached Postgres, which
    // refuses NUL in text, and the service answered 500 with the database's own message.
    const legacy = stack.endpoints.legacy;
    skipUnless(ctx, legacy !== undefined, "the target runs no legacy pipeline");
    const client = gatewayClient(legacy.baseURL, { connections: 1 });
    try {
      const userID = `fz_${unique()}`;
      await client.register(userID, "a-long-enough-password");
      // The legacy login answers a JWT only (no imToken): the sealed route, not the gateway's login().
      const { jwt } = (await client.sealed(
        "/api/auth/login",
        { userID, password: "a-long-enough-password" },
        { platformID: 5 },
      )) as { jwt: string };
      const bodies: Array<[string, unknown]> = [
        ["/api/messages", { recvID: userID, text: "nul\u0000byte" }],
        ["/api/messages", { groupID: "\u0000", text: "hi" }],
        ["/api/groups", { groupName: "a\u0000b", memberUserIDs: [] }],
      ];
      for (const [route, body] of bodies) {
        const res = await client.request("POST", route, body, client.bearer(jwt));
        expect(res.status, `${route} ${JSON.stringify(body)}`).toBe(400);
      }
      // The same text without the NUL is stored and acknowledged.
      const ok = await client.request(
        "POST",
        "/api/messages",
        { recvID: userID, text: "nul byte" },
        client.bearer(jwt),
      );
      expect(ok.status).toBe(200);
    } finally {
      await client.close();
    }
  });
});
