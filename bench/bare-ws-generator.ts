import { PbCoder } from "@openim/protocol";
import WebSocket from "ws";
import { runOpenLoop } from "../src/load/scheduler.js";
import { nowUs } from "../src/metrics/clock.js";
import { buildTextMsg } from "../src/protocol/msg-data.js";
import { buildGatewayUrl } from "../src/protocol/ws-dial.js";
import { encodeRequestFrame, ReqIdentifier } from "../src/protocol/ws-frames.js";

/**
 * The ceiling a generator is measured against: the same OpenIM SendMsg frames to the same
 * gateway at the same fixed rate, but every frame built before the clock starts, and what
 * comes back decoded only as far as counting needs (is it a push or an answer?): no
 * accounting, no histograms, no protobuf.
 */
export interface BareUser {
  userID: string;
  token: string;
}

/** One sender and where it sends: a peer (recvID) or a group (groupID). */
export interface BareTarget {
  from: number;
  recvID?: string;
  groupID?: string;
}

export interface BareCounter {
  /** Every binary frame that came back. */
  inbound: number;
  /** Of those, pushes (2001), when the counter tells them apart (frameCounter does). */
  pushes?: number;
}

export interface BareRun {
  sent: number;
  inboundFrames: number;
  pushes: number;
  cpuSeconds: number;
  elapsedMs: number;
}

const PLATFORM = 3;
/**
 * At most this many distinct frames are built: past it they are reused round robin (a server
 * that does no work does not care; OpenIM runs stay far below it). 20,000 frames of ~600 bytes
 * is ~12 MB, where 20,000/s for 10 s built up front would be 120 MB of garbage to collect.
 */
const MAX_DISTINCT_FRAMES = 20_000;
// The envelope is JSON whose first key is reqIdentifier (Go's field order, and ws-frames.ts's):
// `{"reqIdentifier":2001,` — four bytes at a fixed offset tell a push from an answer.
const REQ_ID_AT = '{"reqIdentifier":'.length;
const PUSH_DIGITS = Buffer.from(String(ReqIdentifier.PushMsg));

export function isPushFrame(data: Buffer): boolean {
  return (
    data[REQ_ID_AT] === PUSH_DIGITS[0] &&
    data[REQ_ID_AT + 1] === PUSH_DIGITS[1] &&
    data[REQ_ID_AT + 2] === PUSH_DIGITS[2] &&
    data[REQ_ID_AT + 3] === PUSH_DIGITS[3]
  );
}

/** A counter to hand connectBare: counts every binary frame, and pushes apart. */
export function frameCounter(): Required<BareCounter> & { onFrame: (data: WebSocket.RawData) => void } {
  const c = {
    inbound: 0,
    pushes: 0,
    onFrame: (data: WebSocket.RawData) => {
      c.inbound++;
      if (Buffer.isBuffer(data) && isPushFrame(data)) c.pushes++;
    },
  };
  return c;
}

export async function connectBare(
  wsUrl: string,
  users: BareUser[],
  onFrame: (data: WebSocket.RawData) => void,
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

/** Pairs (0,1), (2,3), …: each user sends to its neighbour. */
export function pairTargets(users: BareUser[]): BareTarget[] {
  return users.map((_, from) => ({ from, recvID: users[from ^ 1]?.userID ?? users[0]?.userID }));
}

function buildFrames(users: BareUser[], targets: BareTarget[], count: number): Buffer[] {
  const frames: Buffer[] = [];
  for (let k = 0; k < count; k++) {
    const t = targets[k % targets.length] as BareTarget;
    const sender = users[t.from] as BareUser;
    const msg = buildTextMsg({
      sendID: sender.userID,
      ...(t.groupID ? { groupID: t.groupID } : { recvID: t.recvID ?? "" }),
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
  return frames;
}

/** `targets` send round robin, `rate` frames a second for `durationMs`. */
export async function runBare(
  sockets: WebSocket[],
  users: BareUser[],
  rate: number,
  durationMs: number,
  counter: BareCounter,
  targets: BareTarget[] = pairTargets(users),
): Promise<BareRun> {
  const total = Math.floor((rate * durationMs) / 1000);
  // A multiple of the targets, so a reused frame still leaves from the socket it was built for.
  const distinct = Math.min(total, MAX_DISTINCT_FRAMES - (MAX_DISTINCT_FRAMES % targets.length));
  const frames = buildFrames(users, targets, distinct);
  counter.inbound = 0;
  counter.pushes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let k = 0;
  await runOpenLoop({
    stages: [{ from: rate, to: rate, durationMs }],
    t0Us: nowUs() + 50_000,
    dispatch: () => {
      const i = k++;
      const t = targets[i % targets.length] as BareTarget;
      sockets[t.from]?.send(frames[i % frames.length] as Buffer);
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
    pushes: counter.pushes ?? 0,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    elapsedMs: performance.now() - t0,
  };
}
