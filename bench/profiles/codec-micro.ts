import { PbCoder } from "@openim/protocol";
import { encodeStamp, filler, parseStamp } from "../../src/load/stamp.js";
import { decodeText } from "../../src/protocol/content.js";
import { newClientMsgID, newOperationID } from "../../src/protocol/ids.js";
import { buildTextMsg, encodeTextMsg } from "../../src/protocol/msg-data.js";
import { encodePushOfSent, readPushMessages, readSendMsgResp } from "../../src/protocol/pb-lite.js";
import { flattenConversationMaps } from "../../src/protocol/received.js";
import {
  decodeResponseFrame,
  encodeRequestFrameAfter,
  encodeResponseFrame,
  requestFrameHead,
  wsResponseSchema,
} from "../../src/protocol/ws-frames.js";

/**
 * What each per-message codec trick buys, old way beside new way, in one process:
 *   node --import tsx bench/profiles/codec-micro.ts
 * µs per call (best of 5 rounds of 20,000): on a shared machine only the ratios within one run mean anything.
 */
const N = 20_000;
const text = `${encodeStamp({ run: "abcd1234", sender: 12, target: "u13", n: 12345, intendedUs: 123456789012 })} ${filler(250)}`;
const sendID = "load_mk1x2_a1b2c3d4e5f6_1";
const recvID = "load_mk1x2_a1b2c3d4e5f6_2";
const token = "x".repeat(220);

function bestOf(f: (i: number) => unknown): number {
  for (let i = 0; i < 2000; i++) f(i);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) f(i);
    best = Math.min(best, ((performance.now() - t0) * 1000) / N);
  }
  return best;
}
function row(what: string, oldWay: (i: number) => unknown, newWay: (i: number) => unknown) {
  const o = bestOf(oldWay);
  const n = bestOf(newWay);
  process.stdout.write(
    `${what.padEnd(44)} old ${o.toFixed(2).padStart(6)} µs   new ${n.toFixed(2).padStart(6)} µs   ×${(o / n).toFixed(1)}\n`,
  );
}

const data = encodeTextMsg({
  sendID,
  recvID,
  text,
  senderPlatformID: 3,
  clientMsgID: newClientMsgID(),
  createTime: Date.now(),
});
row(
  "MsgData bytes of a text (send)",
  () => PbCoder.MsgData.encode(buildTextMsg({ sendID, recvID, text, senderPlatformID: 3 })).finish(),
  () =>
    encodeTextMsg({
      sendID,
      recvID,
      text,
      senderPlatformID: 3,
      clientMsgID: newClientMsgID(),
      createTime: Date.now(),
    }),
);
const head = requestFrameHead(1003, token, sendID);
row(
  "request envelope (send)",
  (i) =>
    Buffer.from(
      JSON.stringify({
        reqIdentifier: 1003,
        token,
        sendID,
        operationID: newOperationID(),
        msgIncr: String(i),
        data: Buffer.from(data).toString("base64"),
      }),
    ),
  (i) => encodeRequestFrameAfter(head, newOperationID(), String(i), data),
);
const push = encodePushOfSent(data, "si_a_b", {
  serverMsgID: "nw1",
  seq: 5,
  sendTime: Date.now(),
  status: 2,
});
const frame = encodeResponseFrame(
  { reqIdentifier: 2001, msgIncr: "", operationID: "op", errCode: 0, errMsg: "", data: push },
  { gzip: false },
);
const resp = decodeResponseFrame(frame, { gzip: false });
row(
  "push data → messages with text (receive)",
  () => {
    const p = PbCoder.PushMessages.decode(resp.data);
    return flattenConversationMaps(p.msgs, p.notificationMsgs).map((m) => decodeText(m));
  },
  () => readPushMessages(resp.data),
);
const ackBytes = PbCoder.UserSendMsgResp.encode({
  serverMsgID: "nw1",
  clientMsgID: "c".repeat(32),
  sendTime: Date.now(),
}).finish();
row(
  "ack data (receive)",
  () => PbCoder.UserSendMsgResp.decode(ackBytes),
  () => readSendMsgResp(ackBytes),
);
row(
  "response envelope of a push (no rest/spread)",
  () => {
    const { data, ...rest } = wsResponseSchema.parse(JSON.parse(frame.toString("utf8")));
    return { ...rest, data: data === null ? new Uint8Array(0) : Buffer.from(data, "base64") };
  },
  () => decodeResponseFrame(frame, { gzip: false }),
);

// The ledger's per-receive lookups: the stamp read, and the stream/order keys.
function parseStampSplit(t: string) {
  const end = t.indexOf("~", 4);
  const [run, sender, target, n, intendedUs] = t.slice(4, end).split("|");
  return { run, sender: Number(sender), target, n: Number(n), intendedUs: Number(intendedUs) };
}
row(
  "stamp read (split → indexOf/slice)",
  () => parseStampSplit(text),
  () => parseStamp(text),
);
const flat = new Map<string, number>();
const nested = new Map<number, Map<string, number>>();
for (let u = 0; u < 100; u++) {
  flat.set(`${u}>u${u ^ 1}`, u);
  nested.set(u, new Map([[`u${u ^ 1}`, u]]));
}
const targets = Array.from({ length: 100 }, (_, u) => `u${u ^ 1}`);
row(
  "stream lookup (template key → nested maps)",
  (i) => flat.get(`${i % 100}>${targets[i % 100]}`),
  (i) => nested.get(i % 100)?.get(targets[i % 100] as string),
);
