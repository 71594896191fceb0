import type { IncomingMessage } from "node:http";
import { gunzipSync } from "node:zlib";
import WebSocket from "ws";
import { parseApiEnvelope, snippet } from "./api-envelope.js";
import { OpenImError, OpenImTransportError } from "./errors.js";

/**
 * Opening a gateway connection (server: internal/msggateway/ws_server.go wsHandler).
 * A refused handshake is not a WebSocket error: the gateway answers HTTP 200 with an
 * OpenIM envelope instead of upgrading, or — with isMsgResp=true and a bad token —
 * upgrades, sends the envelope as a text frame and closes. Both become OpenImError.
 */

export interface GatewayParams {
  wsUrl: string;
  userID: string;
  token: string;
  platformID: number;
  operationID: string;
  compression: boolean;
  isMsgResp: boolean;
}

export interface DialOptions extends GatewayParams {
  handshakeTimeoutMs: number;
  /** Frames larger than this close the socket with 1009 (ws's default is 100 MiB). */
  maxPayload?: number;
  signal?: AbortSignal;
  /**
   * Called synchronously the moment the connection is usable, before the promise
   * settles, so no frame that arrives in the same read can slip past the caller.
   */
  attach: (ws: WebSocket) => void;
}

const MAX_REFUSAL_BODY = 64 * 1024;

export function buildGatewayUrl(p: GatewayParams): string {
  const url = new URL(p.wsUrl);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  const q = url.searchParams;
  q.set("sendID", p.userID);
  q.set("token", p.token);
  q.set("platformID", String(p.platformID));
  q.set("operationID", p.operationID);
  q.set("sdkType", "js");
  q.set("isBackground", "false");
  q.set("isMsgResp", String(p.isMsgResp));
  if (p.compression) q.set("compression", "gzip");
  return url.toString();
}

/** The URL without its token, for messages and logs. */
export function redactGatewayUrl(url: string): string {
  const u = new URL(url);
  if (u.searchParams.has("token")) u.searchParams.set("token", "***");
  return u.toString();
}

export function dialGateway(o: DialOptions): Promise<WebSocket> {
  const url = buildGatewayUrl(o);
  const shown = redactGatewayUrl(url);
  const origin = { handshake: true, operationID: o.operationID };

  return new Promise<WebSocket>((resolve, reject) => {
    if (o.signal?.aborted) {
      reject(new OpenImTransportError({ ...origin, kind: "closed", message: `dial to ${shown} aborted` }));
      return;
    }
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: o.handshakeTimeoutMs,
      ...(o.maxPayload ? { maxPayload: o.maxPayload } : {}),
    });
    let settled = false;

    const onAbort = (): void =>
      fail(new OpenImTransportError({ ...origin, kind: "closed", message: `dial to ${shown} aborted` }));
    const timer = setTimeout(
      () =>
        fail(
          new OpenImTransportError({
            ...origin,
            kind: "timeout",
            message: `no handshake answer from ${shown} within ${o.handshakeTimeoutMs} ms`,
          }),
        ),
      o.handshakeTimeoutMs,
    );
    o.signal?.addEventListener("abort", onAbort, { once: true });

    function cleanup(): void {
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      ws.removeListener("open", onOpen);
      ws.removeListener("message", onFirstFrame);
      ws.removeListener("unexpected-response", onRefused);
      ws.removeListener("close", onEarlyClose);
      ws.removeListener("error", onError);
    }

    function fail(err: Error): void {
      if (settled) return;
      settled = true;
      cleanup();
      // terminate() on a connecting socket emits 'error' later; keep a listener so it is not thrown.
      ws.on("error", () => {});
      ws.terminate();
      reject(err);
    }

    function succeed(): void {
      if (settled) return;
      settled = true;
      cleanup();
      o.attach(ws);
      resolve(ws);
    }

    function onOpen(): void {
      if (!o.isMsgResp) succeed();
      // else: wait for the gateway's verdict frame
    }

    function onFirstFrame(data: WebSocket.RawData, isBinary: boolean): void {
      const text = rawToBuffer(data).toString("utf8");
      const parsed = parseApiEnvelope(text);
      if (isBinary || !parsed.ok) {
        fail(
          new OpenImTransportError({
            ...origin,
            kind: "bad-frame",
            message: `expected the isMsgResp text frame from ${shown}, got ${isBinary ? "a binary frame" : snippet(text)}`,
          }),
        );
        return;
      }
      const env = parsed.envelope;
      if (env.errCode !== 0) {
        fail(new OpenImError({ ...origin, errCode: env.errCode, errMsg: env.errMsg, errDlt: env.errDlt }));
        return;
      }
      succeed();
    }

    function onRefused(_req: unknown, res: IncomingMessage): void {
      readBody(res)
        .then((body) => fail(refusalError(res.statusCode ?? 0, body, shown, o.operationID)))
        .catch((err: unknown) =>
          fail(
            new OpenImTransportError({
              ...origin,
              kind: "http-status",
              status: res.statusCode,
              message: `${shown} answered HTTP ${res.statusCode} instead of upgrading; its body could not be read`,
              cause: err,
            }),
          ),
        );
    }

    function onEarlyClose(code: number, reason: Buffer): void {
      fail(
        new OpenImTransportError({
          ...origin,
          kind: "closed",
          message: `${shown} closed the connection during the handshake (code ${code}${reason.length ? `, ${reason.toString("utf8")}` : ""})`,
        }),
      );
    }

    function onError(err: Error): void {
      fail(
        new OpenImTransportError({
          ...origin,
          kind: "network",
          message: `cannot connect to ${shown}: ${err.message}`,
          cause: err,
        }),
      );
    }

    ws.on("open", onOpen);
    ws.on("message", onFirstFrame);
    ws.on("unexpected-response", onRefused);
    ws.on("close", onEarlyClose);
    ws.on("error", onError);
  });
}

function refusalError(status: number, body: Buffer, shown: string, operationID: string): Error {
  const text = body.toString("utf8");
  const parsed = parseApiEnvelope(text);
  if (parsed.ok && parsed.envelope.errCode !== 0) {
    const env = parsed.envelope;
    return new OpenImError({
      handshake: true,
      operationID,
      errCode: env.errCode,
      errMsg: env.errMsg,
      errDlt: env.errDlt,
    });
  }
  return new OpenImTransportError({
    handshake: true,
    operationID,
    kind: "http-status",
    status,
    message: `${shown} answered HTTP ${status} instead of upgrading: ${snippet(text)}`,
  });
}

function readBody(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REFUSAL_BODY) chunks.push(chunk);
    });
    res.on("end", () => {
      const body = Buffer.concat(chunks);
      try {
        resolve(res.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body);
      } catch (err) {
        reject(err);
      }
    });
    res.on("error", reject);
  });
}

export function rawToBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
