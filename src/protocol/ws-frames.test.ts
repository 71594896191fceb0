import { gunzipSync, gzipSync } from "node:zlib";
import { PbCoder } from "@openim/protocol";
import { describe, expect, it } from "vitest";
import { encodeTextContent } from "./content.js";
import { buildTextMsg } from "./msg-data.js";
import {
  decodeRequestFrame,
  decodeResponseFrame,
  encodeRequestFrame,
  encodeResponseFrame,
  FrameDecodeError,
  ReqIdentifier,
  textFrameType,
} from "./ws-frames.js";

const msg = buildTextMsg({
  sendID: "alice",
  recvID: "bob",
  senderPlatformID: 3,
  text: "héllo ✓",
  createTime: 1700000000123,
});

describe.each([false, true])("frame envelope (gzip=%s)", (gzip) => {
  it("carries a MsgData request through JSON + base64 + protobuf", () => {
    const data = PbCoder.MsgData.encode(msg).finish();
    const frame = encodeRequestFrame(
      {
        reqIdentifier: ReqIdentifier.SendMsg,
        token: "t",
        sendID: "alice",
        operationID: "op1",
        msgIncr: "7",
        data,
      },
      { gzip },
    );
    const json = JSON.parse((gzip ? gunzipSync(frame) : frame).toString("utf8"));
    expect(json).toEqual({
      reqIdentifier: 1003,
      token: "t",
      sendID: "alice",
      operationID: "op1",
      msgIncr: "7",
      data: Buffer.from(data).toString("base64"),
    });
    const back = decodeRequestFrame(frame, { gzip });
    const decoded = PbCoder.MsgData.decode(back.data);
    expect(decoded.clientMsgID).toBe(msg.clientMsgID);
    expect(Buffer.from(decoded.content).equals(encodeTextContent("héllo ✓"))).toBe(true);
    expect(decoded.createTime).toBe(1700000000123);
  });

  it("decodes a push response into PushMessages", () => {
    const pushed = { ...msg, seq: 42, sendTime: 1700000000200 };
    const data = PbCoder.PushMessages.encode({
      msgs: { si_alice_bob: { Msgs: [pushed], isEnd: false } },
      notificationMsgs: {},
    }).finish();
    const frame = encodeResponseFrame(
      { reqIdentifier: ReqIdentifier.PushMsg, msgIncr: "", operationID: "op", errCode: 0, errMsg: "", data },
      { gzip },
    );
    const resp = decodeResponseFrame(frame, { gzip });
    expect(resp.reqIdentifier).toBe(2001);
    const push = PbCoder.PushMessages.decode(resp.data);
    expect(push.msgs.si_alice_bob?.Msgs[0]?.seq).toBe(42);
  });
});

describe("decodeResponseFrame", () => {
  it("treats data:null (Go's nil []byte) as empty bytes", () => {
    const raw = Buffer.from(
      JSON.stringify({
        reqIdentifier: 2002,
        msgIncr: "",
        operationID: "",
        errCode: 0,
        errMsg: "",
        data: null,
      }),
    );
    expect(decodeResponseFrame(raw, { gzip: false }).data).toHaveLength(0);
  });

  it("rejects non-JSON, non-envelope and non-gzip frames with FrameDecodeError", () => {
    expect(() => decodeResponseFrame(Buffer.from("nope"), { gzip: false })).toThrow(FrameDecodeError);
    expect(() => decodeResponseFrame(Buffer.from('{"a":1}'), { gzip: false })).toThrow(FrameDecodeError);
    expect(() => decodeResponseFrame(Buffer.from('{"a":1}'), { gzip: true })).toThrow(/not gzip/);
    const gz = gzipSync(Buffer.from("[]"));
    expect(() => decodeResponseFrame(gz, { gzip: true })).toThrow(/not a gateway response/);
  });

  it("surfaces errCode and errMsg", () => {
    const raw = Buffer.from(
      JSON.stringify({
        reqIdentifier: 1003,
        msgIncr: "3",
        operationID: "o",
        errCode: 1004,
        errMsg: "RecordNotFoundError",
        data: null,
      }),
    );
    expect(decodeResponseFrame(raw, { gzip: false })).toMatchObject({ errCode: 1004, msgIncr: "3" });
  });
});

describe("textFrameType", () => {
  it("reads the type of ping/pong text frames", () => {
    expect(textFrameType('{"type":"pong","body":null}')).toBe("pong");
    expect(textFrameType("garbage")).toBeUndefined();
  });
});
