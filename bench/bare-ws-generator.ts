import { PbCoder } from "@openim/protocol";
import WebSocket from "ws";
import { runOpenLoop } from "../src/load/scheduler.js";
import { buildTextMsg } from "../src/protocol/msg-data.js";
import { buildGatewayUrl } from "../src/protocol/ws-dial.js";
import { encodeRequestFrame, ReqIdentifier } from "../src/protocol/ws-frames.js";

/**
 * The ceiling a generator is measured against: the same OpenIM SendMsg frames to the same
 * gateway at the same fixed rate, but every frame built before the clock starts, nothing
 * decoded on the way back (frames are only counted), no accounting, no histograms.
 */
export interface BareUser {
  userID: string;
  token: string;
}

export interface BareRun {
  sent: number;
  inboundFrames: number;
  cpuSeconds: number;
  elapsedMs: number;
}

const PLATFORM = 3;

export async function connectBare(
  wsUrl: string,
  users: BareUser[],
  onFrame: () => void,
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (const u of users) {
    const url = buildGatewayUrl({
      wsUrl,
      userID: u.userID,
      token: u.token,
      platformID: PLATFORM,
      operationID: `bench-${u.userID}`,
      compression: false,
      isMsgResp: false,
    });
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`bare ws: ${u.userID} did not connect in 10 s`)),
        10_000,
      );
      ws.once("open", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    ws.on("message", onFrame);
    ws.on("error", () => {});
    sockets.push(ws);
  }
  return sockets;
}

/** Pairs (0,1), (2,3), … send to each other, round robin, `rate` frames a second for `durationMs`. */
export async function runBare(
  sockets: WebSocket[],
  users: BareUser[],
  rate: number,
  durationMs: number,
  counter: { inbound: number },
): Promise<BareRun> {
  const total = Math.floor((rate * durationMs) / 1000);
  const frames: Buffer[] = [];
  for (let k = 0; k < total; k++) {
    const from = k % users.length;
    const to = from ^ 1;
    const sender = users[from] as BareUser;
    const msg = buildTextMsg({
      sendID: sender.userID,
      recvID: users[to]?.userID,
      text: `bare ${k} ${"x".repeat(200)}`,
      senderPlatformID: PLATFORM,
    });
    frames.push(
      encodeRequestFrame(
        {
          reqIdentifier: ReqIdentifier.SendMsg,
          token: sender.token,
          sendID: sender.userID,
          operationID: `b${k}`,
          msgIncr: String(k + 1),
          data: PbCoder.MsgData.encode(msg).finish(),
        },
        { gzip: false },
      ),
    );
  }
  counter.inbound = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let k = 0;
  const { nowUs } = await import("../src/metrics/clock.js");
  await runOpenLoop({
    stages: [{ from: rate, to: rate, durationMs }],
    t0Us: nowUs() + 50_000,
    dispatch: () => {
      const i = k++;
      const frame = frames[i];
      if (frame) sockets[i % sockets.length]?.send(frame);
    },
    stopped: () => false,
  });
  // Acks and pushes still on their way: wait (bounded) for the inbound count to settle.
  let last = -1;
  for (let i = 0; i < 100 && counter.inbound !== last; i++) {
    last = counter.inbound;
    await new Promise((r) => setTimeout(r, 200));
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    sent: k,
    inboundFrames: counter.inbound,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    elapsedMs: performance.now() - t0,
  };
}
