import { readFileSync, statSync } from "node:fs";
import net from "node:net";
import { Pool } from "undici";
import { gatewayClient } from "../drivers/gateway-client.js";
import { deriveSessionKey, newKeyPair, seal } from "../protocol/gateway-auth.js";
import { uniqueUserID } from "../protocol/ids.js";
import {
  type FuzzCase,
  type FuzzContext,
  type FuzzFamily,
  type FuzzStep,
  type FuzzTarget,
  fuzzCases,
} from "./fuzz-cases.js";
import { findLeaks, type NamedSecret } from "./leaks.js";

/**
 * Sends a seeded list of hostile requests to one service and checks the three promises:
 * never a 5xx, never a crash (it still answers /healthz), never a secret or token in a
 * response or in its log. Requests go one at a time: a crash is then pinned to its case.
 */

export interface FuzzServiceOptions {
  target: FuzzTarget;
  /** The service itself (not nginx), e.g. http://127.0.0.1:24581. */
  baseURL: string;
  seed: number;
  requests: number;
  secrets: NamedSecret[];
  jwt: FuzzContext["jwt"];
  /** The service's log file: what it wrote during the run is searched for secrets and tokens. */
  logFile?: string;
  /** Per request; a request still unanswered after this is a hang, checked like a crash. */
  timeoutMs?: number;
  onProgress?: (done: number) => void;
}

export interface FuzzFinding {
  n: number;
  family: FuzzFamily;
  what: string;
  /** replay: a handshake's sealed login or registration worked twice. */
  problem: "5xx" | "crash" | "leak" | "hang" | "replay";
  detail: string;
}

export interface FuzzOutcome {
  target: FuzzTarget;
  seed: number;
  tried: number;
  byFamily: Record<string, number>;
  statuses: Record<string, number>;
  fiveXX: number;
  crashes: number;
  /** Requests left unanswered past the timeout while the service still answered /healthz. */
  hangs: number;
  leaks: number;
  replays: number;
  findings: FuzzFinding[];
}

interface Reply {
  status: number;
  text: string;
}

const HEALTH_EVERY = 50;
const MAX_FINDINGS_KEPT = 50;

/** Reads what an HTTP/1.1 server answered on a raw socket: the status and everything it wrote. */
function rawRequest(base: URL, bytes: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(base.port), base.hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("connect", () => socket.end(bytes, "latin1"));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, text });
    });
  });
}

async function healthy(pool: Pool, prefix: string): Promise<boolean> {
  try {
    const res = await pool.request({
      path: `${prefix}/healthz`,
      method: "GET",
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

function logSize(file: string | undefined): number {
  try {
    return file ? statSync(file).size : 0;
  } catch {
    return 0;
  }
}

/** A user of the service, for cases that need a valid token: registered and logged in with the real DH login. */
async function loginFreshUser(
  baseURL: string,
): Promise<{ userID: string; password: string; jwt: string; tokens: string[] }> {
  const client = gatewayClient(baseURL, { connections: 1 });
  try {
    const userID = uniqueUserID("fuzz");
    const password = `pw-${userID}`;
    await client.register(userID, password);
    const login = (await client.sealed("/api/auth/login", { userID, password }, { platformID: 5 })) as {
      jwt: string;
      imToken?: string;
    };
    return {
      userID,
      password,
      jwt: login.jwt,
      tokens: [login.jwt, ...(login.imToken ? [login.imToken] : [])],
    };
  } finally {
    await client.close();
  }
}

export async function fuzzService(o: FuzzServiceOptions): Promise<FuzzOutcome> {
  const base = new URL(o.baseURL);
  const prefix = base.pathname.replace(/\/+$/, "");
  const timeoutMs = o.timeoutMs ?? 10_000;
  const pool = new Pool(base.origin, { connections: 1, pipelining: 0 });
  const outcome: FuzzOutcome = {
    target: o.target,
    seed: o.seed,
    tried: 0,
    byFamily: {},
    statuses: {},
    fiveXX: 0,
    crashes: 0,
    hangs: 0,
    leaks: 0,
    replays: 0,
    findings: [],
  };
  const note = (c: FuzzCase, problem: FuzzFinding["problem"], detail: string) => {
    if (problem === "5xx") outcome.fiveXX++;
    else if (problem === "leak") outcome.leaks++;
    else if (problem === "replay") outcome.replays++;
    else if (problem === "hang") outcome.hangs++;
    else outcome.crashes++;
    if (outcome.findings.length < MAX_FINDINGS_KEPT)
      outcome.findings.push({
        n: c.n,
        family: c.family,
        what: c.what,
        problem,
        detail: detail.slice(0, 200),
      });
  };
  const logStart = logSize(o.logFile);
  try {
    if (!(await healthy(pool, prefix)))
      throw new Error(`${o.target} at ${o.baseURL} does not answer /healthz`);
    const user = await loginFreshUser(o.baseURL);
    // The fuzzer's own user's tokens must not show up in a log either: they are secrets of that user.
    const secrets = [
      ...o.secrets,
      ...user.tokens.map((value, i) => ({ name: `user token ${i + 1}`, value })),
    ];
    const cases = fuzzCases(o.target, o.seed, o.requests, {
      userID: user.userID,
      validJwt: user.jwt,
      jwt: o.jwt,
    });

    const send = async (step: Exclude<FuzzStep, { via: "replay" }>): Promise<Reply> => {
      if (step.via === "raw") return rawRequest(base, step.bytes, timeoutMs);
      const res = await pool.request({
        path: `${prefix}${step.path}`,
        method: step.method,
        headers: step.headers,
        ...(step.body === undefined ? {} : { body: step.body }),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await res.body.text();
      return { status: res.statusCode, text: `${JSON.stringify(res.headers)}\n${text}` };
    };

    /** A real handshake and a sealed login (the fuzzer's user) or registration (a new user), sent twice. */
    const replay = async (route: string): Promise<{ replies: Reply[]; refused: boolean }> => {
      const own = newKeyPair();
      const hsReply = await send({
        via: "http",
        method: "POST",
        path: "/api/auth/handshake",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ clientPublicKey: own.publicKey }),
      });
      const hs = JSON.parse(hsReply.text.slice(hsReply.text.indexOf("\n") + 1)) as {
        sessionID: string;
        serverPublicKey: string;
        salt: string;
      };
      const key = deriveSessionKey(own.privateKey, hs.serverPublicKey, hs.salt);
      const credentials =
        route === "/api/auth/login"
          ? { userID: user.userID, password: user.password }
          : { userID: uniqueUserID("fz"), password: "fuzz-password-1" };
      const body = JSON.stringify({
        sessionID: hs.sessionID,
        ...seal(key, hs.sessionID, credentials),
        platformID: 5,
      });
      const request = {
        via: "http",
        method: "POST",
        path: route,
        headers: { "content-type": "application/json" },
        body,
      } as const;
      const first = await send(request);
      const second = await send(request);
      return { replies: [first, second], refused: second.status === 401 && /handshake/.test(second.text) };
    };

    for (const c of cases) {
      outcome.tried++;
      outcome.byFamily[c.family] = (outcome.byFamily[c.family] ?? 0) + 1;
      let replies: Reply[];
      try {
        if (c.step.via === "replay") {
          const r = await replay(c.step.route);
          replies = r.replies;
          if (!r.refused) note(c, "replay", `second use answered HTTP ${r.replies[1]?.status}`);
        } else replies = [await send(c.step)];
      } catch (err) {
        // No answer at all: the service died, hung, or dropped this connection; /healthz tells which.
        if (!(await healthy(pool, prefix))) {
          note(c, "crash", `no answer (${(err as Error).message}) and /healthz is down`);
          break;
        }
        // A service may answer 413 and close while a huge body is still being sent: the client then
        // sees the connection reset, which is a refusal, not a hang. Only silence past the timeout is one.
        const code = (err as { code?: unknown }).code;
        if (
          code === "UND_ERR_HEADERS_TIMEOUT" ||
          code === "UND_ERR_BODY_TIMEOUT" ||
          /no answer within/.test(String(err))
        )
          note(c, "hang", `no answer: ${(err as Error).message}`);
        else outcome.statuses.dropped = (outcome.statuses.dropped ?? 0) + 1;
        continue;
      }
      for (const r of replies) {
        outcome.statuses[r.status] = (outcome.statuses[r.status] ?? 0) + 1;
        if (r.status >= 500) note(c, "5xx", `HTTP ${r.status}: ${r.text.split("\n").slice(1).join(" ")}`);
        // Only a successful login answers with tokens (a replay case's first, genuine use).
        const tokensExpected = r.status >= 200 && r.status < 300 && c.step.via === "replay";
        // A login hands the user its own tokens; anywhere else they are a leak.
        const leaked = findLeaks(r.text, tokensExpected ? o.secrets : secrets, { tokensExpected });
        if (leaked.length > 0) note(c, "leak", `response holds ${leaked.join(", ")}`);
      }
      if (outcome.tried % HEALTH_EVERY === 0) {
        o.onProgress?.(outcome.tried);
        if (!(await healthy(pool, prefix))) {
          note(c, "crash", "/healthz stopped answering");
          break;
        }
      }
    }
    if (outcome.crashes === 0 && !(await healthy(pool, prefix)))
      note(cases[cases.length - 1] as FuzzCase, "crash", "/healthz does not answer after the run");
    if (o.logFile) {
      const written = readFileSync(o.logFile).subarray(logStart).toString("utf8");
      const leaked = findLeaks(written, secrets, { tokensExpected: false });
      if (leaked.length > 0)
        note(
          { n: -1, family: "jwt", what: `${o.logFile}`, step: { via: "raw", bytes: "" } },
          "leak",
          `the service's log holds ${leaked.join(", ")}`,
        );
    }
  } finally {
    await pool.close();
  }
  return outcome;
}
