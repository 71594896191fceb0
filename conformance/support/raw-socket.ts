import { PbCoder } from "@openim/protocol";
import WebSocket from "ws";
import { newOperationID } from "../../src/protocol/ids.js";
import { flattenConversationMaps, type ReceivedMsg } from "../../src/protocol/received.js";
import { dialGateway, rawToBuffer } from "../../src/protocol/ws-dial.js";
import {
  decodeResponseFrame,
  encodeRequestFrame,
  ReqIdentifier,
  type WsRequest,
  type WsResponse,
} from "../../src/protocol/ws-frames.js";
import type { TestUser } from "./fixtures.js";

/**
 * A bare connection to the msg gateway for cases that need what OpenImWsClient hides on
 * purpose: every frame as it came (no seq dedupe, so a duplicate push is visible), and
 * frames the client would never build (padded to an exact size, a wrong sendID, garbage).
 */
export interface RawSocket {
  readonly userID: string;
  /** Every binary frame the server sent, decoded, in arrival order. */
  readonly frames: WsResponse[];
  /** Every message of every 2001 push, one entry per copy received. */
  readonly pushes: ReceivedMsg[];
  /** Resolves with the close code once the socket is closed (by either side). */
  readonly closed: Promise<{ code: number }>;
  readonly isOpen: boolean;
  /** The bytes of a JSON request envelope (sdkType=js), optionally padded with spaces to `size` bytes. */
  frame(req: Partial<WsRequest> & { reqIdentifier: number }, size?: number): Buffer;
  send(data: Buffer | string, binary?: boolean): void;
  /** Sends a request envelope (padded to `size` bytes if given) and resolves with the reply carrying its msgIncr. */
  request(
    req: Partial<WsRequest> & { reqIdentifier: number },
    opts?: { size?: number; timeoutMs?: number },
  ): Promise<WsResponse>;
  /** Resolves once a pushed message matching `match` has arrived (looking at earlier ones too). */
  pushed(match: (m: ReceivedMsg) => boolean, timeoutMs?: number): Promise<ReceivedMsg>;
  close(): Promise<void>;
}

let incr = 0;

export async function openRawSocket(wsUrl: string, user: TestUser): Promise<RawSocket> {
  let ws: WebSocket | undefined;
  await dialGateway({
    wsUrl,
    userID: user.userID,
    token: user.token,
    platformID: user.platformID,
    operationID: newOperationID(),
    compression: false,
    isMsgResp: true,
    handshakeTimeoutMs: 10_000,
    attach: (s) => {
      ws = s;
    },
  });
  const sock = ws as WebSocket;
  const frames: WsResponse[] = [];
  const pushes: ReceivedMsg[] = [];
  const waiters = new Set<() => void>();
  const closed = new Promise<{ code: number }>((resolve) => {
    sock.on("close", (code) => {
      for (const w of waiters) w();
      resolve({ code });
    });
  });
  sock.on("error", () => {});
  sock.on("message", (data, isBinary) => {
    if (!isBinary) return;
    let resp: WsResponse;
    try {
      resp = decodeResponseFrame(rawToBuffer(data), { gzip: false });
    } catch {
      return;
    }
    frames.push(resp);
    if (resp.reqIdentifier === ReqIdentifier.PushMsg) {
      const push = PbCoder.PushMessages.decode(resp.data);
      pushes.push(...flattenConversationMaps(push.msgs, push.notificationMsgs));
    }
    for (const w of waiters) w();
  });

  function frame(req: Partial<WsRequest> & { reqIdentifier: number }, size?: number): Buffer {
    const bytes = encodeRequestFrame(
      {
        token: "",
        sendID: user.userID,
        operationID: newOperationID(),
        msgIncr: `raw_${++incr}`,
        data: new Uint8Array(0),
        ...req,
      },
      { gzip: false },
    );
    if (size === undefined) return bytes;
    if (size < bytes.length) throw new Error(`a ${bytes.length}-byte envelope cannot be padded to ${size}`);
    // Trailing whitespace is valid JSON: the frame grows, its meaning does not.
    return Buffer.concat([bytes, Buffer.alloc(size - bytes.length, 0x20)]);
  }

  function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = probe();
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (sock.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`${user.userID}'s raw socket closed before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} for ${user.userID} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  return {
    userID: user.userID,
    frames,
    pushes,
    closed,
    get isOpen() {
      return sock.readyState === WebSocket.OPEN;
    },
    frame,
    send(data, binary = typeof data !== "string") {
      sock.send(data, { binary });
    },
    request(req, opts = {}) {
      const msgIncr = req.msgIncr ?? `raw_${++incr}`;
      sock.send(frame({ ...req, msgIncr }, opts.size), { binary: true });
      return waitFor(
        () => frames.find((f) => f.msgIncr === msgIncr),
        opts.timeoutMs ?? 10_000,
        `reply to ${req.reqIdentifier}`,
      );
    },
    pushed(match, timeoutMs = 10_000) {
      return waitFor(() => pushes.find(match), timeoutMs, "matching push");
    },
    async close() {
      if (sock.readyState === WebSocket.CLOSED) return;
      const killer = setTimeout(() => sock.terminate(), 2000);
      sock.close(1000);
      await closed;
      clearTimeout(killer);
    },
  };
}

/** Raw sockets a case opened, closed together after it (as StackFixtures.cleanup does for clients). */
export function rawSockets(wsUrl: string) {
  const open: RawSocket[] = [];
  return {
    async open(user: TestUser): Promise<RawSocket> {
      const s = await openRawSocket(wsUrl, user);
      open.push(s);
      return s;
    },
    async closeAll(): Promise<void> {
      await Promise.all(open.splice(0).map((s) => s.close()));
    },
  };
}
