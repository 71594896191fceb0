import { Pool } from "undici";
import { z } from "zod";
import { deriveSessionKey, newKeyPair, seal } from "../protocol/gateway-auth.js";

/**
 * A client of the product's gateway as an app uses it: the DH handshake, sealed
 * credentials, the JWT it answers with, and REST calls through `/api/`.
 */

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly route: string,
  ) {
    super(`${route}: HTTP ${status} ${code}: ${message}`);
    this.name = "GatewayError";
  }
}

export const loginResultSchema = z.object({
  jwt: z.string(),
  imToken: z.string(),
  wsURL: z.string(),
  userID: z.string(),
  platformID: z.number().int(),
  role: z.enum(["user", "admin"]),
  expiresAt: z.number(),
  imTokenExpiresAt: z.number(),
});
export type LoginResult = z.infer<typeof loginResultSchema>;

const handshakeSchema = z.object({
  sessionID: z.string(),
  serverPublicKey: z.string(),
  salt: z.string(),
  expiresIn: z.number(),
});

export interface GatewayResponse {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export function gatewayClient(baseUrl: string, opts: { connections?: number; timeoutMs?: number } = {}) {
  const url = new URL(baseUrl);
  const prefix = url.pathname.replace(/\/+$/, "");
  const pool = new Pool(url.origin, { connections: opts.connections ?? 16 });
  const timeoutMs = opts.timeoutMs ?? 15_000;

  async function request(
    method: "GET" | "POST",
    route: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<GatewayResponse> {
    const res = await pool.request({
      path: `${prefix}${route}`,
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text for the error message
    }
    return { status: res.statusCode, body: parsed, headers: res.headers };
  }

  /** Like request, but a non-2xx answer throws GatewayError with the gateway's code. */
  async function expectOk(
    method: "GET" | "POST",
    route: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<unknown> {
    const res = await request(method, route, body, headers);
    if (res.status >= 200 && res.status < 300) return res.body;
    const err = (res.body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new GatewayError(
      res.status,
      err?.code ?? "http_error",
      err?.message ?? String(res.body).slice(0, 200),
      route,
    );
  }

  async function sealed(
    route: string,
    payload: unknown,
    extra: Record<string, unknown> = {},
  ): Promise<unknown> {
    const own = newKeyPair();
    const hs = handshakeSchema.parse(
      await expectOk("POST", "/api/auth/handshake", { clientPublicKey: own.publicKey }),
    );
    const key = deriveSessionKey(own.privateKey, hs.serverPublicKey, hs.salt);
    return expectOk("POST", route, {
      sessionID: hs.sessionID,
      ...seal(key, hs.sessionID, payload),
      ...extra,
    });
  }

  const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

  return {
    request,
    bearer,
    /** A request whose non-2xx answer throws GatewayError with the server's code. */
    expectOk,
    /** A DH handshake, then `payload` sealed under its key and posted to `route` (with `extra` in clear). */
    sealed,
    async register(userID: string, password: string, nickname?: string): Promise<void> {
      await sealed("/api/auth/register", { userID, password, nickname });
    },
    async login(userID: string, password: string, platformID: number): Promise<LoginResult> {
      return loginResultSchema.parse(await sealed("/api/auth/login", { userID, password }, { platformID }));
    },
    async logout(jwt: string): Promise<void> {
      await expectOk("POST", "/api/auth/logout", {}, bearer(jwt));
    },
    /** A call to OpenIM's REST API through the gateway's proxy; answers OpenIM's envelope unchanged. */
    im(jwt: string, route: string, body: unknown, operationID?: string): Promise<GatewayResponse> {
      return request("POST", `/api/im/${route}`, body, {
        ...bearer(jwt),
        ...(operationID ? { operationID } : {}),
      });
    },
    admin(jwt: string, method: "GET" | "POST", route: string, body?: unknown): Promise<unknown> {
      return expectOk(method, `/api/admin/${route}`, body, bearer(jwt));
    },
    close: () => pool.close(),
  };
}

export type GatewayClient = ReturnType<typeof gatewayClient>;
