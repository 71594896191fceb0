import { beforeAll, describe, expect, inject, test } from "vitest";
import { closed, nextPush, type StackFixtures, stackFixtures } from "../conformance/support/fixtures.js";
import {
  decodeText,
  getUserToken,
  OpenImError,
  parseToken,
  singleConversationID,
} from "../src/protocol/index.js";

// The real OpenIM v3.8.3 of the local stack, through nginx as clients reach it.
let stack: StackFixtures;
beforeAll(async () => {
  stack = await stackFixtures(inject("endpoints"));
});

/** A token with its signature changed: same header and claims, so only the HS256 check can refuse it. */
function forge(token: string): string {
  const [header, claims, signature = ""] = token.split(".");
  const flipped = signature.startsWith("A") ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
  return `${header}.${claims}.${flipped}`;
}

describe("OpenIM through the local stack", () => {
  test("a registered user's token names that user and platform", async () => {
    const [alice] = await stack.newUsers(1, 3);
    const parsed = await parseToken(stack.rest, alice!.token);
    expect(parsed).toMatchObject({ userID: alice!.userID, platformID: 3 });
    expect(parsed.expireTimeSeconds).toBeGreaterThan(Date.now() / 1000 + 86_400);
  });

  test("a text sent over the WebSocket through nginx reaches the receiver with seq, sender and content", async () => {
    const [alice, bob] = await stack.newUsers(2);
    const a = await stack.connect(alice!);
    const b = await stack.connect(bob!);
    const text = `hello ${bob!.userID} ✓ — ünïcode`;
    const arrival = nextPush(b, (m) => m.sendID === alice!.userID);
    const ack = await a.sendText({ recvID: bob!.userID, text });
    const pushed = await arrival;

    expect(ack.serverMsgID).toMatch(/\w+/);
    expect(pushed).toMatchObject({
      sendID: alice!.userID,
      recvID: bob!.userID,
      clientMsgID: ack.clientMsgID,
      serverMsgID: ack.serverMsgID,
      sessionType: 1,
      contentType: 101,
      conversationID: singleConversationID(alice!.userID, bob!.userID),
    });
    expect(decodeText(pushed)).toBe(text);
    // The first message of a new conversation gets seq 1 (msgtransfer allocates per conversation).
    expect(Number(pushed.seq)).toBe(1);
  });

  test("the newest seq (1001) and a pull by seq (1002) agree with what was pushed", async () => {
    const [alice, bob] = await stack.newUsers(2);
    const a = await stack.connect(alice!);
    const b = await stack.connect(bob!);
    const conversationID = singleConversationID(alice!.userID, bob!.userID);
    const sent: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const arrival = nextPush(b, (m) => decodeText(m) === `msg ${i}`);
      await a.sendText({ recvID: bob!.userID, text: `msg ${i}` });
      await arrival;
      sent.push(`msg ${i}`);
    }
    const newest = await b.getNewestSeq();
    expect(newest.maxSeqs[conversationID]).toBe(3);

    const pulled = await b.pullBySeqs([{ conversationID, begin: 1, end: 3 }]);
    const inConversation = pulled.messages.filter((m) => m.conversationID === conversationID);
    expect(inConversation.map((m) => Number(m.seq))).toEqual([1, 2, 3]);
    expect(inConversation.map(decodeText)).toEqual(sent);
    expect(pulled.isEnd[conversationID]).toBe(true);
  });

  test("a forged token is refused at the WebSocket handshake and on REST with OpenIM's token error code", async () => {
    const [mallory] = await stack.newUsers(1);
    const forged = { ...mallory!, token: forge(mallory!.token) };
    const ws = await stack.connect(forged).catch((err: unknown) => err);
    expect(ws).toBeInstanceOf(OpenImError);
    const wsCode = (ws as OpenImError).errCode;
    expect([1502, 1503, 1505]).toContain(wsCode);

    const rest = await stack.rest
      .call("user/get_users_info", { userIDs: [mallory!.userID] }, { token: forged.token })
      .catch((e: unknown) => e);
    expect(rest).toBeInstanceOf(OpenImError);
    expect((rest as OpenImError).errCode).toBe(wsCode);
  });

  test("a token replaced by a newer one for the same platform is refused as kicked (1506)", async () => {
    const [carol] = await stack.newUsers(1, 3);
    // OpenIM's JWT claims have one-second resolution: a token minted again within the same
    // second is the same string (observed on v3.8.3), so wait for the next second first.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // Under multiLogin policy 1, issuing a new token for the same user and platform kicks the old one.
    const newer = await getUserToken(stack.rest, stack.adminToken, carol!.userID, 3);
    expect(newer.token).not.toBe(carol!.token);
    const attempt = await stack.connect(carol!).catch((err: unknown) => err);
    expect(attempt).toBeInstanceOf(OpenImError);
    expect((attempt as OpenImError).errCode).toBe(1506);
  });

  test("a token for another user is refused at the handshake (1502: sendID must match the token)", async () => {
    const [dave, erin] = await stack.newUsers(2);
    const attempt = await stack.connect({ ...dave!, token: erin!.token }).catch((err: unknown) => err);
    expect(attempt).toBeInstanceOf(OpenImError);
    expect((attempt as OpenImError).errCode).toBe(1502);
  });

  test("a malformed binary frame makes the server close the connection without a reply", async () => {
    const [frank] = await stack.newUsers(1);
    const client = await stack.connect(frank!);
    const closing = closed(client);
    client.sendRawFrame(new Uint8Array([0x7b, 0x6e, 0x6f, 0x74, 0x20, 0x6a, 0x73, 0x6f, 0x6e]), true); // "{not json"
    const info = await closing;
    expect(info.wasKicked).toBe(false);
  });

  test("the same WebSocket route also works directly against OpenIM's message gateway", async () => {
    const [gina, hank] = await stack.newUsers(2);
    const g = await stack.connect(gina!, { via: "direct" });
    const h = await stack.connect(hank!, { via: "direct" });
    const arrival = nextPush(h, (m) => m.sendID === gina!.userID);
    await g.sendText({ recvID: hank!.userID, text: "direct" });
    expect(decodeText(await arrival)).toBe("direct");
  });
});
