import { createHmac } from "node:crypto";
import { seededRandom } from "../util/seeded-random.js";

/**
 * Requests a hostile client could send the reference gateway or the legacy chat service,
 * generated from a seed: malformed JSON, wrong types, huge and deeply nested bodies, bad
 * base64 in the DH fields, replayed handshakes, expired/forged/`alg:none` JWTs and header
 * injection. A case is data (what to send), so the same seed sends the same bytes.
 */

export type FuzzTarget = "gateway" | "legacy";

export type FuzzFamily =
  | "malformed-json"
  | "wrong-types"
  | "huge-body"
  | "deep-nesting"
  | "dh-base64"
  | "replayed-handshake"
  | "jwt"
  | "header-injection";

/** A request as bytes on a keep-alive-free socket, or through an HTTP client. */
export type FuzzRequest =
  | {
      via: "http";
      method: "GET" | "POST";
      path: string;
      headers: Record<string, string>;
      body?: string;
    }
  /** Written to a fresh TCP connection as is: header injection the HTTP client would refuse to send. */
  | { via: "raw"; bytes: string };

/** Steps a case takes; `replay` sends a real handshake's sealed login twice. */
export type FuzzStep = FuzzRequest | { via: "replay"; route: "/api/auth/login" | "/api/auth/register" };

export interface FuzzCase {
  n: number;
  family: FuzzFamily;
  what: string;
  step: FuzzStep;
}

/** What the generator may use: a real user's JWT (for authenticated routes) and the service's JWT settings. */
export interface FuzzContext {
  /** The fuzzer's own user: a recipient that exists, so a send reaches the store. */
  userID: string;
  validJwt: string;
  jwt: { secret: string; issuer: string; audience: string };
}

type Rng = () => number;
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;

const COMMON_ROUTES = ["/api/auth/handshake", "/api/auth/login", "/api/auth/register", "/api/auth/logout"];
const ROUTES: Record<FuzzTarget, string[]> = {
  gateway: [
    ...COMMON_ROUTES,
    "/api/im/user/get_users_info",
    "/api/im/msg/send_msg",
    "/api/admin/groups",
    "/api/admin/system-message",
    "/api/admin/users/u1/ban",
    "/webhooks/openim/callbackBeforeSendSingleMsgCommand",
  ],
  legacy: [...COMMON_ROUTES, "/api/messages", "/api/groups"],
};
/** Routes behind the bearer token, where a body is only read once the token passed. */
const AUTHED: Record<FuzzTarget, string[]> = {
  gateway: ["/api/im/user/get_users_info", "/api/im/msg/send_msg", "/api/auth/logout"],
  legacy: ["/api/messages", "/api/groups"],
};

/** Strings that break naive code: NUL (Postgres refuses it in text), lone surrogates, RTL marks, format strings. */
const NASTY_STRINGS = [
  "",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\u202e",
  "%s%n%x",
  "' OR 1=1 --",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "\r\nX-Injected: 1",
  "x".repeat(70_000),
  "__proto__",
  "constructor",
];
const WRONG_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  1.5,
  [],
  [1, "a"],
  {},
  { $gt: "" },
  { __proto__: { admin: true } },
  ...NASTY_STRINGS,
];
const FIELDS = [
  "clientPublicKey",
  "sessionID",
  "nonce",
  "sealed",
  "platformID",
  "userID",
  "password",
  "recvID",
  "groupID",
  "text",
  "clientMsgID",
  "memberUserIDs",
  "groupName",
  "ownerUserID",
  "userIDs",
  "sendID",
  "content",
];

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** A JWT signed with `secret` (HS256 unless told otherwise), for tokens that are expired or signed by another key. */
function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string): string {
  const head = `${b64url(header)}.${b64url(claims)}`;
  const alg = header.alg === "HS512" ? "sha512" : "sha256";
  return `${head}.${createHmac(alg, secret).update(head).digest("base64url")}`;
}

function jsonRequest(route: string, body: string, headers: Record<string, string> = {}): FuzzRequest {
  return {
    via: "http",
    method: "POST",
    path: route,
    headers: { "content-type": "application/json", ...headers },
    body,
  };
}

type Maker = (rng: Rng, target: FuzzTarget, ctx: FuzzContext) => Omit<FuzzCase, "n" | "family">;

function authed(rng: Rng, target: FuzzTarget, ctx: FuzzContext): [string, Record<string, string>] {
  const route = pick(rng, ROUTES[target]);
  const withToken = AUTHED[target].includes(route) || rng() < 0.5;
  return [route, withToken ? { authorization: `Bearer ${ctx.validJwt}` } : {}];
}

const MAKERS: Record<FuzzFamily, Maker> = {
  "malformed-json": (rng, target, ctx) => {
    const [route, headers] = authed(rng, target, ctx);
    const full = JSON.stringify({ clientPublicKey: "x".repeat(43), text: "hi", recvID: "u1", platformID: 1 });
    const body = pick(rng, [
      full.slice(0, int(rng, 1, full.length - 1)),
      "{",
      "}",
      "[",
      "nul",
      "{'a':1}",
      '{"a":1,}',
      '{"a":01}',
      '{"a":"\\x41"}',
      "\u0000",
      Buffer.from(Array.from({ length: int(rng, 1, 64) }, () => int(rng, 0, 255))).toString("latin1"),
    ]);
    return {
      what: `POST ${route} with ${JSON.stringify(body.slice(0, 20))}…`,
      step: jsonRequest(route, body, headers),
    };
  },
  "wrong-types": (rng, target, ctx) => {
    const [route, headers] = authed(rng, target, ctx);
    let body: Record<string, unknown> = {};
    for (let i = int(rng, 1, 4); i > 0; i--) body[pick(rng, FIELDS)] = pick(rng, WRONG_VALUES);
    // Some bodies are right but for one nasty string, so it reaches the code (and the database) behind the schema.
    if (rng() < 0.4) {
      const nasty = pick(rng, NASTY_STRINGS);
      if (route === "/api/messages")
        body = pick(rng, [
          { recvID: ctx.userID, text: nasty || "x" },
          { groupID: nasty || "g", text: "hi" },
          { recvID: ctx.userID, text: "hi", clientMsgID: nasty },
        ]);
      else if (route === "/api/groups") body = { groupName: nasty, memberUserIDs: [] };
      else if (route === "/api/admin/system-message") body = { recvID: ctx.userID, text: nasty || "x" };
      else if (route.startsWith("/api/im/"))
        body = { userIDs: [nasty], sendID: nasty, content: { content: nasty } };
    }
    const top = rng() < 0.1 ? pick(rng, ["[]", "null", "0", '"x"', "true"]) : JSON.stringify(body);
    return { what: `POST ${route} ${top.slice(0, 60)}`, step: jsonRequest(route, top, headers) };
  },
  "huge-body": (rng, target, ctx) => {
    const [route, headers] = authed(rng, target, ctx);
    // Around the services' 1 MiB body limit: under it must be read, over it refused with 413.
    const size = int(rng, 512 * 1024, 2 * 1024 * 1024);
    const body = JSON.stringify({ text: "x".repeat(size), recvID: "u1", clientPublicKey: "y".repeat(43) });
    return { what: `POST ${route} with a ${size}-byte string`, step: jsonRequest(route, body, headers) };
  },
  "deep-nesting": (rng, target, ctx) => {
    const [route, headers] = authed(rng, target, ctx);
    const depth = pick(rng, [100, 1_000, 10_000, 100_000, 300_000]);
    const body =
      rng() < 0.5
        ? `${"[".repeat(depth)}${"]".repeat(depth)}`
        : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    return { what: `POST ${route} nested ${depth} deep`, step: jsonRequest(route, body, headers) };
  },
  "dh-base64": (rng) => {
    const bad = () =>
      pick(rng, [
        "!!!!",
        "A".repeat(43),
        "A".repeat(42),
        "A".repeat(44),
        "=".repeat(43),
        `${"A".repeat(42)}=`,
        "_".repeat(43),
        "-".repeat(int(rng, 1, 100)),
        Buffer.alloc(32).toString("base64"),
        Buffer.alloc(32, 0xff).toString("base64url"),
        "AAAA".repeat(int(rng, 100, 3000)),
        "\u0000".repeat(43),
        "é".repeat(43),
      ]);
    if (rng() < 0.4) {
      const body = { clientPublicKey: bad() };
      return {
        what: `handshake with clientPublicKey ${body.clientPublicKey.slice(0, 20)}…`,
        step: jsonRequest("/api/auth/handshake", JSON.stringify(body)),
      };
    }
    const route = pick(rng, ["/api/auth/login", "/api/auth/register"]);
    const body = { sessionID: bad(), nonce: bad(), sealed: bad(), platformID: int(rng, 1, 9) };
    return {
      what: `${route} with bad base64 in sessionID/nonce/sealed`,
      step: jsonRequest(route, JSON.stringify(body)),
    };
  },
  "replayed-handshake": (rng) => {
    const route = pick(rng, ["/api/auth/login", "/api/auth/register"] as const);
    return { what: `${route} sealed once, sent twice`, step: { via: "replay", route } };
  },
  jwt: (rng, target, ctx) => {
    const route = pick(rng, AUTHED[target]);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: "u1",
      plat: 1,
      role: pick(rng, ["user", "admin"]),
      iss: ctx.jwt.issuer,
      aud: ctx.jwt.audience,
    };
    const [what, token] = pick(rng, [
      [
        "expired",
        () =>
          signJwt(
            { alg: "HS256", typ: "JWT" },
            { ...claims, iat: now - 7200, exp: now - int(rng, 1, 3600) },
            ctx.jwt.secret,
          ),
      ],
      [
        "signed by another key",
        () => signJwt({ alg: "HS256" }, { ...claims, exp: now + 3600 }, `not-the-key-${int(rng, 0, 1e9)}`),
      ],
      ["alg none", () => `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ ...claims, exp: now + 3600 })}.`],
      [
        "alg NONE, signature kept",
        () =>
          `${b64url({ alg: "NONE" })}.${b64url({ ...claims, exp: now + 3600 })}.${ctx.validJwt.split(".")[2]}`,
      ],
      [
        "HS512 with the right key",
        () => signJwt({ alg: "HS512" }, { ...claims, exp: now + 3600 }, ctx.jwt.secret),
      ],
      [
        "another issuer",
        () => signJwt({ alg: "HS256" }, { ...claims, iss: "evil", exp: now + 3600 }, ctx.jwt.secret),
      ],
      [
        "valid token, payload swapped",
        () => {
          const [h, , s] = ctx.validJwt.split(".");
          return `${h}.${b64url({ ...claims, role: "admin", exp: now + 3600 })}.${s}`;
        },
      ],
      ["garbage", () => pick(rng, ["a.b.c", "...", "eyJ", "x".repeat(int(rng, 1, 9000)), "e30.e30.e30"])],
      ["truncated valid token", () => ctx.validJwt.slice(0, int(rng, 1, ctx.validJwt.length - 1))],
    ] as Array<[string, () => string]>);
    const value = token();
    const scheme = pick(rng, ["Bearer ", "Bearer ", "bearer ", "Basic ", "", "Bearer  "]);
    return {
      what: `${route} with a JWT: ${what} (scheme ${JSON.stringify(scheme)})`,
      step: jsonRequest(route, JSON.stringify({ recvID: "u1", text: "hi" }), {
        authorization: `${scheme}${value}`,
      }),
    };
  },
  "header-injection": (rng, target, ctx) => {
    const route = pick(rng, ROUTES[target]);
    const inject = pick(rng, [
      `operationID: a\r\nX-Injected: 1`,
      `operationID: ${"o".repeat(int(rng, 1000, 20000))}`,
      `operationID: \u00ff\u00fe`,
      `operationID: a\rb`,
      `Authorization: Bearer ${ctx.validJwt}\r\nAuthorization: Bearer forged`,
      `Authorization: Bearer ${ctx.validJwt}\u0000`,
      `Content-Length: 5\r\nContent-Length: 7`,
      `Transfer-Encoding: chunked\r\nContent-Length: 2`,
      `Host: evil.example\r\nHost: 127.0.0.1`,
      `X-Forwarded-For: 127.0.0.1, ${"9".repeat(5000)}`,
      ` folded: header`,
      `Bad Header: x`,
      `operationID:\ta\tb`,
    ]);
    const body = '{"clientPublicKey":"x"}';
    const bytes = `POST ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${inject}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    return {
      what: `${route} with header ${JSON.stringify(inject.slice(0, 50))}`,
      step: { via: "raw", bytes },
    };
  },
};

export const FUZZ_FAMILIES = Object.keys(MAKERS) as FuzzFamily[];

/** `count` cases from `seed`, families in turn so each gets its share; the same list for the same seed. */
export function fuzzCases(target: FuzzTarget, seed: number, count: number, ctx: FuzzContext): FuzzCase[] {
  const rng = seededRandom(seed);
  return Array.from({ length: count }, (_, n) => {
    const family = FUZZ_FAMILIES[n % FUZZ_FAMILIES.length] as FuzzFamily;
    return { n, family, ...MAKERS[family](rng, target, ctx) };
  });
}
