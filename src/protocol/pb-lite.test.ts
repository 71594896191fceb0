import { PbCoder } from "@openim/protocol";
import { describe, expect, test } from "vitest";
import { buildTextMsg, encodeTextMsg } from "./msg-data.js";
import { encodePushOfSent, encodeSendMsgResp, PbWriter, readMsgHead } from "./pb-lite.js";

describe("pb-lite", () => {
  const msg = buildTextMsg({ sendID: "alice", recvID: "bob", text: "héllo", senderPlatformID: 3 });
  const bytes = PbCoder.MsgData.encode(msg).finish();

  test("reads the head of a MsgData as the full decoder does, with the content's place", () => {
    const h = readMsgHead(bytes);
    expect(h).toMatchObject({
      sendID: "alice",
      recvID: "bob",
      groupID: "",
      clientMsgID: msg.clientMsgID,
      sessionType: msg.sessionType,
      contentType: msg.contentType,
    });
    expect(Buffer.from(bytes.subarray(h.contentStart, h.contentEnd))).toEqual(Buffer.from(msg.content));
  });

  test("a push built from the sent bytes decodes, with the server's fields winning", () => {
    const push = encodePushOfSent(bytes, "si_alice_bob", {
      serverMsgID: "s1",
      seq: 7,
      sendTime: 1_765_000_000_123,
      status: 2,
    });
    const decoded = PbCoder.PushMessages.decode(push);
    const m = decoded.msgs.si_alice_bob?.Msgs[0];
    expect(m).toMatchObject({
      sendID: "alice",
      serverMsgID: "s1",
      seq: 7,
      sendTime: 1_765_000_000_123,
      status: 2,
    });
    expect(readMsgHead(PbCoder.MsgData.encode(m as typeof msg).finish())).toMatchObject({
      seq: 7,
      sendTime: 1_765_000_000_123,
      serverMsgID: "s1",
    });
  });

  test("UserSendMsgResp and large varints round-trip; a truncated message is a RangeError", () => {
    expect(PbCoder.UserSendMsgResp.decode(encodeSendMsgResp("s", "c", 2 ** 52 + 3))).toEqual({
      serverMsgID: "s",
      clientMsgID: "c",
      sendTime: 2 ** 52 + 3,
    });
    expect(new PbWriter(1).stringField(1, "x".repeat(300)).finish().length).toBe(303);
    const cut = readMsgHead(bytes).contentStart + 2; // inside the content field
    expect(() => readMsgHead(bytes.subarray(0, cut))).toThrow(RangeError);
  });
});

describe("encodeTextMsg", () => {
  test("writes exactly the bytes the generated coder writes for buildTextMsg", () => {
    for (const p of [
      { sendID: "a", recvID: "b", text: 'hi ~c1|x|1|u2|3|4~ é "q"' },
      { sendID: "a", groupID: "g1", text: "x".repeat(300), senderNickname: "n", ex: "e" },
    ]) {
      const full = { ...p, senderPlatformID: 3, clientMsgID: "c".repeat(32), createTime: 1_765_000_000_000 };
      expect(Buffer.from(encodeTextMsg(full))).toEqual(
        Buffer.from(PbCoder.MsgData.encode(buildTextMsg(full)).finish()),
      );
    }
  });
});
