import http from "node:http";
import type { Duplex } from "node:stream";
import { PbCoder } from "@openim/protocol";
import WebSocket, { WebSocketServer } from "ws";
import { decodeResponseFrame, encodeResponseFrame, ReqIdentifier } from "../protocol/ws-frames.js";
import type { HostileCase } from "./hostile-frames.js";

/**
 * A WebSocket man-in-the-middle for OpenIM's message gateway that breaks the stream on
 * purpose — drops one user's pushes, or shifts the seqs it delivers — so tests can prove
 * the conformance suites notice. Handshake refusals are passed through as OpenIM sent them.
 */

export interface Tampering {
  /** 2001 pushes to users whose ID matches are dropped. */
  dropPushesTo?: string | RegExp;
  /** Added to every pushed message's seq. */
  seqShift?: number;
  /**
   * After the n-th frame (from 0) OpenIM sent a user, a hostile frame of the case returned is sent
   * to the client too (connect-time cases: src/faults/hostile-frames.ts), as a broken server would.
   */
  inject?: (userID: string, n: number) => HostileCase | undefined;
}

export interface TamperProxy {
  /** ws://127.0.0.1:<port> — use like the gateway's WebSocket URL (any path is forwarded). */
  url: string;
  counts: { connections: number; dropped: number; rewritten: number; injected: number };
  close(): Promise<void>;
}

function tamperPush(
  frame: Buffer,
  gzip: boolean,
  tampering: Tampering,
  userID: string,
  counts: TamperProxy["counts"],
): Buffer | undefined {
  let resp: ReturnType<typeof decodeResponseFrame>;
  try {
    resp = decodeResponseFrame(frame, { gzip });
  } catch {
    return frame;
  }
  if (resp.reqIdentifier !== ReqIdentifier.PushMsg) return frame;
  const drop = tampering.dropPushesTo;
  if (drop !== undefined && (typeof drop === "string" ? drop === userID : drop.test(userID))) {
    counts.dropped += 1;
    return undefined;
  }
  if (!tampering.seqShift) return frame;
  const push = PbCoder.PushMessages.decode(resp.data);
  for (const group of [push.msgs, push.notificationMsgs]) {
    for (const pulled of Object.values(group ?? {})) {
      for (const msg of pulled.Msgs ?? []) msg.seq = Number(msg.seq) + tampering.seqShift;
    }
  }
  counts.rewritten += 1;
  return encodeResponseFrame({ ...resp, data: PbCoder.PushMessages.encode(push).finish() }, { gzip });
}

export async function startTamperProxy(upstream: string, tampering: Tampering): Promise<TamperProxy> {
  const counts = { connections: 0, dropped: 0, rewritten: 0, injected: 0 };
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const sockets = new Set<WebSocket>();

  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = new URL(req.url ?? "/", upstream);
    const query = target.searchParams;
    const userID = query.get("sendID") ?? "";
    const gzip = query.get("compression") === "gzip";
    const up = new WebSocket(target, { handshakeTimeout: 10_000, perMessageDeflate: false });
    up.once("unexpected-response", (_r, res) => {
      // OpenIM refuses a handshake with an HTTP answer (a JSON body); the client must see it unchanged.
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        socket.end(
          `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\ncontent-type: ${res.headers["content-type"] ?? "text/plain"}\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.toString("utf8")}`,
        );
      });
    });
    up.once("error", () => socket.destroy());
    // OpenIM may speak first (the isMsgResp verdict frame) before the client's upgrade is done: hold it.
    let client: WebSocket | undefined;
    const held: Array<[Buffer, boolean]> = [];
    let frames = 0;
    const forward = (buf: Buffer, isBinary: boolean) => {
      const out = isBinary ? tamperPush(buf, gzip, tampering, userID, counts) : buf;
      if (out && client?.readyState === WebSocket.OPEN) client.send(out, { binary: isBinary });
      const hostile = tampering.inject?.(userID, frames++);
      if (hostile?.action.on !== "connect" || client?.readyState !== WebSocket.OPEN) return;
      counts.injected += 1;
      // Raw bytes go under the WebSocket framing: that is how broken framing reaches a client.
      if (hostile.action.send === "raw") socket.write(hostile.action.data);
      else client.send(hostile.action.data, { binary: hostile.action.send === "binary" });
    };
    up.on("message", (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      if (client) forward(buf, isBinary);
      else held.push([buf, isBinary]);
    });
    up.once("open", () => {
      wss.handleUpgrade(req, socket, head, (accepted) => {
        client = accepted;
        counts.connections += 1;
        sockets.add(accepted).add(up);
        for (const [buf, isBinary] of held.splice(0)) forward(buf, isBinary);
        accepted.on("message", (data, isBinary) => {
          if (up.readyState === WebSocket.OPEN) up.send(data, { binary: isBinary });
        });
        up.on("ping", (d) => accepted.readyState === WebSocket.OPEN && accepted.ping(d));
        accepted.on("ping", (d) => up.readyState === WebSocket.OPEN && up.ping(d));
        // OpenIM drops connections without a close frame; mirror that as a drop, not a clean close.
        up.on("close", () => accepted.terminate());
        accepted.on("close", () => up.terminate());
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    counts,
    async close() {
      for (const s of sockets) s.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
