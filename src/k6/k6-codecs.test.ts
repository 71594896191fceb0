import { PbCoder } from "@openim/protocol";
import { expect, test } from "vitest";
import { base64Decode, base64Encode, utf8Decode, utf8Encode } from "../../k6/lib/bytes.js";
import { decodeResponse, encodeRequest } from "../../k6/lib/openim-frames.js";
import { decodePushMessages, decodeSendMsgResp, encodeTextMsgData } from "../../k6/lib/openim-messages.js";
import { emptyMsgData } from "../protocol/msg-data.js";
import { decodeRequestFrame, encodeResponseFrame } from "../protocol/ws-frames.js";

// The k6 scripts carry their own small codecs (no Buffer, no protobuf library in a k6 bundle):
// each is held here to cutover's own, which the conformance suites prove on the real server.

test("UTF-8 and base64 agree with Node's for every kind of character", () => {
  const text = "plain ascii, ünïcödé, 中文, emoji 🚀, \u0000 and \u07ff\u0800\uffff";
  expect(Buffer.from(utf8Encode(text)).equals(Buffer.from(text, "utf8"))).toBe(true);
  expect(utf8Decode(Buffer.from(text, "utf8"))).toBe(text);
  for (let n = 0; n < 9; n++) {
    const bytes = Uint8Array.from({ length: n * 7 + (n % 3) }, (_, i) => (i * 37 + n) & 255);
    expect(base64Encode(bytes)).toBe(Buffer.from(bytes).toString("base64"));
    expect(Buffer.from(base64Decode(Buffer.from(bytes).toString("base64"))).equals(Buffer.from(bytes))).toBe(
      true,
    );
  }
});

test("a text's MsgData decodes with OpenIM's own protobuf coder to what the official SDK sends", () => {
  const createdBefore = Date.now();
  const bytes = encodeTextMsgData({
    sendID: "u1",
    platformID: 3,
    recvID: "u2",
    clientMsgID: "c1",
    text: "hi 🚀",
  });
  const msg = PbCoder.MsgData.decode(bytes);
  expect(msg).toMatchObject({
    sendID: "u1",
    recvID: "u2",
    groupID: "",
    clientMsgID: "c1",
    senderPlatformID: 3,
    sessionType: 1,
    msgFrom: 100,
    contentType: 101,
    status: 1,
  });
  expect(JSON.parse(Buffer.from(msg.content).toString("utf8"))).toEqual({ content: "hi 🚀" });
  expect(Number(msg.createTime)).toBeGreaterThanOrEqual(createdBefore);
  const group = PbCoder.MsgData.decode(
    encodeTextMsgData({ sendID: "u1", platformID: 3, groupID: "g1", clientMsgID: "c2", text: "x" }),
  );
  expect(group).toMatchObject({ recvID: "", groupID: "g1", sessionType: 3 });
});

test("request and reply frames match cutover's envelope codec both ways", () => {
  const data = Uint8Array.from([1, 2, 3, 250]);
  const frame = encodeRequest({ reqIdentifier: 1003, sendID: "u1", operationID: "op", msgIncr: "7", data });
  const seen = decodeRequestFrame(new Uint8Array(frame), { gzip: false });
  expect(seen).toMatchObject({ reqIdentifier: 1003, sendID: "u1", operationID: "op", msgIncr: "7" });
  expect([...seen.data]).toEqual([...data]);
  const reply = encodeResponseFrame(
    { reqIdentifier: 1003, msgIncr: "7", operationID: "op", errCode: 0, errMsg: "", data },
    { gzip: false },
  );
  const back = decodeResponse(
    reply.buffer.slice(reply.byteOffset, reply.byteOffset + reply.byteLength) as ArrayBuffer,
  );
  expect(back).toMatchObject({ reqIdentifier: 1003, msgIncr: "7", errCode: 0 });
  expect([...back.data]).toEqual([...data]);
});

test("a push encoded by OpenIM's coder yields each user message with its conversation, seq and text", () => {
  const text = emptyMsgData();
  Object.assign(text, {
    sendID: "u1",
    recvID: "u2",
    clientMsgID: "c1",
    contentType: 101,
    seq: 42,
    content: Buffer.from(JSON.stringify({ content: "k6cut|a_1|123|" })),
  });
  const other = emptyMsgData();
  Object.assign(other, {
    sendID: "u3",
    clientMsgID: "c2",
    contentType: 102,
    seq: 43,
    content: Buffer.from("{}"),
  });
  const push = PbCoder.PushMessages.encode({
    msgs: { si_u1_u2: { Msgs: [text, other], isEnd: false } },
    notificationMsgs: { sn_u1_u2: { Msgs: [emptyMsgData()], isEnd: false } },
  }).finish();
  expect(decodePushMessages(push)).toEqual([
    { conversationID: "si_u1_u2", sendID: "u1", clientMsgID: "c1", seq: 42, text: "k6cut|a_1|123|" },
    { conversationID: "si_u1_u2", sendID: "u3", clientMsgID: "c2", seq: 43, text: undefined },
  ]);
});

test("a send's ack decodes to its serverMsgID and clientMsgID (same fields as sdkws UserSendMsgResp)", () => {
  const ack = PbCoder.UserSendMsgResp.encode({
    serverMsgID: "s1",
    clientMsgID: "c1",
    sendTime: 1_700_000_000_000,
  }).finish();
  expect(decodeSendMsgResp(ack)).toEqual({ serverMsgID: "s1", clientMsgID: "c1" });
});
