import { PbCoder } from "@openim/protocol";
import { afterEach, describe, expect, test } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { OpenImTransportError } from "../protocol/errors.js";
import { emptyMsgData } from "../protocol/msg-data.js";
import { OpenImWsClient } from "../protocol/ws-client.js";
import { decodeResponseFrame, encodeResponseFrame, ReqIdentifier } from "../protocol/ws-frames.js";
import { hostileFrameCases } from "./hostile-frames.js";
import { startTamperProxy, type TamperProxy } from "./ws-tamper-proxy.js";

// A stand-in upstream that pushes one 2001 frame with seq 7 to whoever connects.
async function upstream(): Promise<{ url: string; close: () => void }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((r) => wss.once("listening", r));
  wss.on("connection", (ws) => {
    const push = PbCoder.PushMessages.encode({
      msgs: { si_a_b: { Msgs: [{ ...emptyMsgData(), sendID: "a", recvID: "b", seq: 7 }], isEnd: false } },
      notificationMsgs: {},
    }).finish();
    ws.send(
      encodeResponseFrame(
        {
          reqIdentifier: ReqIdentifier.PushMsg,
          msgIncr: "",
          operationID: "op",
          errCode: 0,
          errMsg: "",
          data: push,
        },
        { gzip: false },
      ),
    );
  });
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}`, close: () => wss.close() };
}

function firstPushSeq(url: string, timeoutMs = 1500): Promise<number | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      resolve(undefined);
    }, timeoutMs);
    ws.on("message", (data) => {
      clearTimeout(timer);
      const resp = decodeResponseFrame(data as Buffer, { gzip: false });
      const push = PbCoder.PushMessages.decode(resp.data);
      ws.terminate();
      resolve(Number(push.msgs.si_a_b?.Msgs[0]?.seq));
    });
  });
}

let proxy: TamperProxy | undefined;
afterEach(async () => proxy?.close());

describe("the tampering WebSocket proxy", () => {
  test("shifts pushed seqs", async () => {
    const up = await upstream();
    proxy = await startTamperProxy(up.url, { seqShift: 5 });
    expect(await firstPushSeq(`${proxy.url}/?sendID=b`)).toBe(12);
    expect(proxy.counts.rewritten).toBe(1);
    up.close();
  });

  test("drops pushes to the chosen user only", async () => {
    const up = await upstream();
    proxy = await startTamperProxy(up.url, { dropPushesTo: "b" });
    expect(await firstPushSeq(`${proxy.url}/?sendID=b`, 500)).toBeUndefined();
    expect(await firstPushSeq(`${proxy.url}/?sendID=c`)).toBe(7);
    expect(proxy.counts.dropped).toBe(1);
    up.close();
  });

  test("sends a hostile frame after OpenIM's, which the protocol client counts by kind and survives", async () => {
    const up = await upstream();
    const cases = hostileFrameCases(19, 40).filter((c) => c.action.on === "connect" && !c.closes && !c.gzip);
    const hostile = cases[0];
    if (!hostile) throw new Error("the generator made no connect-time case");
    proxy = await startTamperProxy(up.url, { inject: (_user, n) => (n === 0 ? hostile : undefined) });
    const client = await OpenImWsClient.connect({
      wsUrl: proxy.url,
      userID: "b",
      token: "t",
      platformID: 5,
      isMsgResp: false,
      reconnect: false,
      heartbeat: false,
    });
    const kinds: string[] = [];
    const pushed = new Promise<void>((resolve) => client.once("push", () => resolve()));
    const counted = new Promise<void>((resolve) =>
      client.on("error", (err) => {
        if (err instanceof OpenImTransportError && err.protocolError) kinds.push(err.protocolError);
        resolve();
      }),
    );
    await Promise.all([pushed, counted]);
    expect(kinds).toEqual([hostile.expect]);
    expect(proxy.counts.injected).toBe(1);
    expect(client.isOpen).toBe(true);
    await client.close();
    up.close();
  });
});
