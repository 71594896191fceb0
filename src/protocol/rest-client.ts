import { gunzipSync } from "node:zlib";
import { Pool } from "undici";
import { parseApiEnvelope, snippet } from "./api-envelope.js";
import { OpenImError, OpenImTransportError } from "./errors.js";
import { newOperationID } from "./ids.js";

/**
 * OpenIM's REST API: every route is `POST /<group>/<method>` with a JSON body, the
 * headers `operationID` and `token`, and an `{errCode, errMsg, errDlt, data?}` envelope
 * answered with HTTP 200 even for errors (docs/openim-protocol.md §3).
 */

export interface RestClientOptions {
  /** e.g. http://127.0.0.1:10002, or a prefix behind a proxy such as http://host/api. */
  baseUrl: string;
  timeoutMs?: number;
  connections?: number;
}

export interface CallOptions {
  token?: string;
  operationID?: string;
  timeoutMs?: number;
}

export interface RestClient {
  readonly baseUrl: string;
  /** Posts `body` to `route`; resolves with the envelope's `data` (undefined when absent). */
  call<T = unknown>(route: string, body: unknown, opts?: CallOptions): Promise<T>;
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export function createRestClient(options: RestClientOptions): RestClient {
  const base = new URL(options.baseUrl);
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new Error(`OpenIM API base URL must be http(s), got ${options.baseUrl}`);
  }
  const prefix = base.pathname.replace(/\/+$/, "");
  const pool = new Pool(base.origin, { connections: options.connections ?? 64 });
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function call<T>(route: string, body: unknown, opts: CallOptions = {}): Promise<T> {
    const cleanRoute = route.replace(/^\/+/, "");
    const operationID = opts.operationID ?? newOperationID();
    const timeoutMs = opts.timeoutMs ?? defaultTimeout;
    const origin = { route: cleanRoute, operationID };
    const headers: Record<string, string> = { "content-type": "application/json", operationID };
    if (opts.token !== undefined) headers.token = opts.token;

    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let status: number;
    let raw: Buffer;
    let encoding: string | string[] | undefined;
    try {
      const res = await pool.request({
        path: `${prefix}/${cleanRoute}`,
        method: "POST",
        headers,
        body: JSON.stringify(body ?? {}),
        signal: abort.signal,
      });
      status = res.statusCode;
      encoding = res.headers["content-encoding"];
      raw = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      if (abort.signal.aborted) {
        throw new OpenImTransportError({
          ...origin,
          kind: "timeout",
          message: `no answer from ${base.origin} within ${timeoutMs} ms`,
        });
      }
      throw new OpenImTransportError({
        ...origin,
        kind: "network",
        message: `cannot reach ${base.origin}: ${(err as Error).message}`,
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }

    let text: string;
    try {
      // No Accept-Encoding is sent, but a proxy in front may still compress.
      text = (encoding === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
    } catch (err) {
      throw new OpenImTransportError({
        ...origin,
        kind: "not-json",
        status,
        message: "gzip body does not decompress",
        cause: err,
      });
    }
    const parsed = parseApiEnvelope(text);
    if (status !== 200) {
      // gin's BindJSON answers a malformed body with HTTP 400 but still an OpenIM envelope.
      if (parsed.ok && parsed.envelope.errCode !== 0) {
        const env = parsed.envelope;
        throw new OpenImError({
          ...origin,
          errCode: env.errCode,
          errMsg: env.errMsg,
          errDlt: env.errDlt,
          httpStatus: status,
        });
      }
      throw new OpenImTransportError({
        ...origin,
        kind: "http-status",
        status,
        message: `HTTP ${status}: ${snippet(text)}`,
      });
    }
    if (!parsed.ok) {
      throw new OpenImTransportError({ ...origin, kind: parsed.kind, status, message: parsed.detail });
    }
    const env = parsed.envelope;
    if (env.errCode !== 0) {
      throw new OpenImError({ ...origin, errCode: env.errCode, errMsg: env.errMsg, errDlt: env.errDlt });
    }
    return env.data as T;
  }

  return {
    baseUrl: options.baseUrl,
    call,
    close: () => pool.close(),
  };
}
