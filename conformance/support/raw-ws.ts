import type { IncomingMessage } from "node:http";
import { gunzipSync, gzipSync } from "node:zlib";
import WebSocket from "ws";
import { type ApiEnvelope, parseApiEnvelope } from "../../src/protocol/api-envelope.js";
import { newOperationID } from "../../src/protocol/ids.js";
import { decodeResponseFrame, type WsResponse } from "../../src/protocol/ws-frames.js";

/**
 * A WebSocket to OpenIM's message gateway with nothing in between: the query string, the
 * headers and every frame are the case's to choose, and everything the server answers
 * (HTTP refusal, text frames, binary frames, pongs, the close) is recorded as it came.
 * OpenImWsClient hides exactly these details; conformance cases about the handshake and
 * the frame layer need them bare (openim-protocol.md §1).
 */

export interface RawFrame {
  binary: boolean;
  data: Buffer;
  at: number;
}

export interface RawClose {
  code: number;
  reason: string;
  at: number;
}

/** The gateway answered the upgrade with plain HTTP (ws_server.go httpError). */
export interface HandshakeRefusal {
  kind: "refused";
  status: number;
  contentType: string;
  body: string;
  /** The body as OpenIM's {errCode, errMsg, errDlt} envelope, when it is one. */
  envelope: ApiEnvelope | undefined;
}

export interface Upgraded {
  kind: "upgraded";
  conn: RawConn;
}

export type RawDialResult = Upgraded | HandshakeRefusal;

export interface RawDialOptions {
  /** Extra HTTP headers on the upgrade request (e.g. `compression: gzip`). */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** The query the Go SDK sends (long_conn_mgr.go reConn), plus sdkType=js so frames are JSON. */
export function gatewayQuery(
  user: { userID: string; token: string; platformID: number },
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    sendID: user.userID,
    token: user.token,
    platformID: String(user.platformID),
    operationID: newOperationID(),
    sdkType: "js",
    ...overrides,
  };
}

/** `base` with the query set; keys whose value is undefined are left out altogether. */
export function gatewayUrl(base: string, query: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

const live = new Set<RawConn>();

/** Terminates every raw connection still open (call from afterEach). */
export async function closeRawConns(): Promise<void> {
  const open = [...live];
  live.clear();
  await Promise.all(open.map((c) => c.terminate()));
}

/** Opens a WebSocket with exactly this query; resolves with the upgraded socket or the HTTP refusal. */
export function rawDial(
  base: string,
  query: Record<string, string | undefined>,
  opts: RawDialOptions = {},
): Promise<RawDialResult> {
  const url = gatewayUrl(base, query);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise<RawDialResult>((resolve, reject) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
    // Frames can follow the 101 in the same read: record from the very first byte.
    const conn = new RawConn(ws);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no handshake answer within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once("open", () => {
      clearTimeout(timer);
      live.add(conn);
      resolve({ kind: "upgraded", conn });
    });
    ws.once("unexpected-response", (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        clearTimeout(timer);
        let raw = Buffer.concat(chunks);
        if (res.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
        const body = raw.toString("utf8");
        const parsed = parseApiEnvelope(body);
        ws.on("error", () => {});
        ws.terminate();
        resolve({
          kind: "refused",
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          body,
          envelope: parsed.ok ? parsed.envelope : undefined,
        });
      });
    });
    ws.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Like rawDial, but the case expects the upgrade; a refusal fails with what the server said. */
export async function rawConnect(
  base: string,
  query: Record<string, string | undefined>,
  opts?: RawDialOptions,
): Promise<RawConn> {
  const r = await rawDial(base, query, opts);
  if (r.kind === "refused") throw new Error(`upgrade refused: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return r.conn;
}

export interface RawRequest {
  reqIdentifier: number;
  data?: Uint8Array;
  sendID: string;
  token?: string;
  operationID?: string;
  msgIncr?: string;
}

/** The JSON request envelope (message_handler.go Req) exactly as the sdkType=js gateway reads it. */
export function encodeJsonRequest(req: RawRequest, gzip = false): Buffer {
  const json = Buffer.from(
    JSON.stringify({
      reqIdentifier: req.reqIdentifier,
      token: req.token ?? "",
      sendID: req.sendID,
      operationID: req.operationID ?? newOperationID(),
      msgIncr: req.msgIncr ?? "1",
      data: Buffer.from(req.data ?? new Uint8Array(0)).toString("base64"),
    }),
    "utf8",
  );
  return gzip ? gzipSync(json) : json;
}

export class RawConn {
  readonly frames: RawFrame[] = [];
  readonly pongs: Buffer[] = [];
  /** Ping control frames the server sent (ws answers each with a pong by itself). */
  readonly pings: Array<{ data: Buffer; at: number }> = [];
  /** Resolves when the socket is closed, however that happened. */
  readonly closed: Promise<RawClose>;
  closeInfo: RawClose | undefined;
  readonly openedAt = Date.now();
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      this.frames.push({ binary: isBinary, data: toBuffer(data), at: Date.now() });
      this.wake();
    });
    ws.on("ping", (data) => {
      this.pings.push({ data, at: Date.now() });
      this.wake();
    });
    ws.on("pong", (data) => {
      this.pongs.push(data);
      this.wake();
    });
    ws.on("error", () => {});
    this.closed = new Promise((resolve) => {
      ws.once("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString("utf8"), at: Date.now() };
        live.delete(this);
        this.wake();
        resolve(this.closeInfo);
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  sendText(text: string): void {
    this.ws.send(text, { binary: false });
  }

  sendBinary(data: Uint8Array): void {
    this.ws.send(data, { binary: true });
  }

  /** Sends one JSON request envelope; resolves with the binary reply carrying the same msgIncr. */
  async request(req: RawRequest, opts: { gzip?: boolean; timeoutMs?: number } = {}): Promise<WsResponse> {
    const msgIncr = req.msgIncr ?? String(Math.floor(Math.random() * 1e9));
    const from = this.frames.length;
    this.sendBinary(encodeJsonRequest({ ...req, msgIncr }, opts.gzip));
    const frame = await this.nextFrame(
      (f) => f.binary && this.decode(f, opts.gzip).msgIncr === msgIncr,
      opts.timeoutMs,
      from,
    );
    return this.decode(frame, opts.gzip);
  }

  decode(frame: RawFrame, gzip = false): WsResponse {
    return decodeResponseFrame(frame.data, { gzip });
  }

  /**
   * The first frame at index ≥ `from` matching `match`; waits for it (bounded). Rejects
   * early when the socket closes without one.
   */
  async nextFrame(
    match: (f: RawFrame) => boolean = () => true,
    timeoutMs = 10_000,
    from = 0,
  ): Promise<RawFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find((f) => {
        try {
          return match(f);
        } catch {
          return false;
        }
      });
      if (found) return found;
      if (this.closeInfo) throw new Error(`socket closed (code ${this.closeInfo.code}) without the frame`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms`);
      await this.waitForActivity(left);
    }
  }

  /** Sends a ping control frame; resolves with the pong's payload. */
  async ping(payload: Buffer, timeoutMs = 5_000): Promise<Buffer> {
    const from = this.pongs.length;
    this.ws.ping(payload);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pong = this.pongs[from];
      if (pong) return pong;
      if (this.closeInfo) throw new Error("socket closed before the pong");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no pong within ${timeoutMs} ms`);
      await this.waitForActivity(left);
    }
  }

  /** Resolves with the close info, or rejects if the socket is still open after `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<RawClose> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the server did not close the socket within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<RawClose> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    const killer = setTimeout(() => this.ws.terminate(), 2_000);
    return this.closed.finally(() => clearTimeout(killer));
  }

  terminate(): Promise<RawClose> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
    return this.closed;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private waitForActivity(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.waiters = self.waiters.filter((w) => w !== done);
        resolve();
      }
      this.waiters.push(done);
    });
  }
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
