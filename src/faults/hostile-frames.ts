import { gzipSync } from "node:zlib";
import type { ProtocolErrorKind } from "../protocol/errors.js";
import { MAX_INFLATED_FRAME_BYTES, ReqIdentifier } from "../protocol/ws-frames.js";
import { seededRandom } from "../util/seeded-random.js";

/**
 * Frames a broken or hostile msg gateway could send, generated from a seed so a failing case
 * is reproduced by its number. Each case names the protocol error a client must count for it;
 * none of them may crash or hang the client.
 */

/** What the server does: send a frame as soon as the client is connected, or answer a request badly. */
export type HostileAction =
  | { on: "connect"; send: "binary" | "text"; data: Buffer }
  /** Bytes written to the TCP stream as they are: broken WebSocket framing. */
  | { on: "connect"; send: "raw"; data: Buffer }
  | { on: "request"; answer: "terminate" | "close" }
  | { on: "request"; answer: "reply"; reqIdentifier: number; data: Buffer }
  /** A frame that names the request's msgIncr but is not a valid envelope. */
  | { on: "request"; answer: "raw-reply"; json: (msgIncr: string) => string };

export interface HostileCase {
  n: number;
  /** One line, for a failing test's message. */
  what: string;
  /** The client must speak compression=gzip for this case (its frames are gzipped). */
  gzip: boolean;
  expect: ProtocolErrorKind;
  /** The server's frame ends the connection (the client cannot carry on with it). */
  closes: boolean;
  action: HostileAction;
}

type Rng = () => number;
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;

function envelope(o: Partial<Record<string, unknown>> = {}): Record<string, unknown> {
  return {
    reqIdentifier: ReqIdentifier.PushMsg,
    msgIncr: "",
    operationID: "op",
    errCode: 0,
    errMsg: "",
    data: null,
    ...o,
  };
}

const encode = (text: string, gzip: boolean) => (gzip ? gzipSync(text) : Buffer.from(text, "utf8"));

/** A protobuf whose first field claims more bytes than follow: no decoder can read it. */
function brokenProtobuf(rng: Rng): Buffer {
  const tag = pick(rng, [0x0a, 0x12, 0x1a]);
  const tail = Buffer.from(Array.from({ length: int(rng, 0, 8) }, () => int(rng, 0, 255)));
  return Buffer.concat([Buffer.from([tag, 0xff, 0xff, 0xff, 0x0f]), tail]);
}

const UNKNOWN_REQ_IDENTIFIERS = [0, -1, 1008, 1999, 2006, 3002, 4001, 9999, 65535, 2 ** 31 - 1];
const WRONG_VALUES: Record<string, unknown[]> = {
  reqIdentifier: ["2001", 2001.5, true, null, {}, []],
  msgIncr: [1, false, null, {}, ["1"]],
  operationID: [7, null, true, {}],
  errCode: ["0", 0.5, null, false, [0]],
  errMsg: [0, null, {}, true],
  data: [42, true, {}, ["AAA="]],
};

let bombCache: Buffer | undefined;
/** Zeros that inflate to twice the client's bound, gzipped once (about 33 KB) and reused. */
function gzipBomb(): Buffer {
  bombCache ??= gzipSync(Buffer.alloc(MAX_INFLATED_FRAME_BYTES * 2), { level: 9 });
  return bombCache;
}

/** WebSocket frames RFC 6455 forbids a server to send (unmasked, FIN set). */
const BROKEN_WS_FRAMES: Array<[string, Buffer]> = [
  ["reserved opcode 3", Buffer.from([0x83, 0x00])],
  ["reserved opcode 0xB (control)", Buffer.from([0x8b, 0x00])],
  ["RSV1 set without an extension", Buffer.from([0xc2, 0x01, 0x00])],
  ["masked server frame", Buffer.from([0x82, 0x81, 1, 2, 3, 4, 0x00])],
  ["text frame of invalid UTF-8", Buffer.from([0x81, 0x02, 0xff, 0xfe])],
  ["continuation with nothing to continue", Buffer.from([0x80, 0x01, 0x00])],
  ["fragmented ping", Buffer.from([0x09, 0x00])],
];

type Maker = (rng: Rng, n: number) => Omit<HostileCase, "n">;

/** One maker per way of being hostile; case n uses maker n mod their count, so every kind is covered evenly. */
export const HOSTILE_MAKERS: ReadonlyArray<[string, Maker]> = [
  [
    "truncated JSON",
    (rng) => {
      const gzip = rng() < 0.5;
      const full = JSON.stringify(envelope({ operationID: `op-${int(rng, 0, 1e6)}`, data: "AAAA" }));
      const cut = int(rng, 1, full.length - 1);
      return {
        what: `envelope cut after ${cut} of ${full.length} chars${gzip ? " (gzipped)" : ""}`,
        gzip,
        expect: "not-json",
        closes: false,
        action: { on: "connect", send: "binary", data: encode(full.slice(0, cut), gzip) },
      };
    },
  ],
  [
    "truncated gzip",
    (rng) => {
      const whole = gzipSync(JSON.stringify(envelope()));
      const cut = int(rng, 0, whole.length - 9);
      return {
        what: `gzip stream cut after ${cut} of ${whole.length} bytes`,
        gzip: true,
        expect: "not-gzip",
        closes: false,
        action: { on: "connect", send: "binary", data: whole.subarray(0, cut) },
      };
    },
  ],
  [
    "wrong types",
    (rng) => {
      const gzip = rng() < 0.3;
      const field = pick(rng, Object.keys(WRONG_VALUES));
      const missing = rng() < 0.2;
      const env = envelope();
      if (missing) delete env[field];
      else env[field] = pick(rng, WRONG_VALUES[field] ?? [null]);
      return {
        what: missing ? `envelope without ${field}` : `${field}: ${JSON.stringify(env[field])}`,
        gzip,
        expect: "bad-envelope",
        closes: false,
        action: { on: "connect", send: "binary", data: encode(JSON.stringify(env), gzip) },
      };
    },
  ],
  [
    "unknown reqIdentifier",
    (rng) => {
      const gzip = rng() < 0.3;
      const reqIdentifier = pick(rng, UNKNOWN_REQ_IDENTIFIERS);
      const msgIncr = rng() < 0.5 ? "" : String(int(rng, 1000, 9999));
      return {
        what: `reqIdentifier ${reqIdentifier}, msgIncr "${msgIncr}"`,
        gzip,
        expect: "unknown-reqIdentifier",
        closes: false,
        action: {
          on: "connect",
          send: "binary",
          data: encode(JSON.stringify(envelope({ reqIdentifier, msgIncr })), gzip),
        },
      };
    },
  ],
  [
    "push of broken protobuf",
    (rng) => {
      const gzip = rng() < 0.3;
      const reqIdentifier = pick(rng, [ReqIdentifier.PushMsg, ReqIdentifier.SubUserOnlineStatus]);
      const data = brokenProtobuf(rng).toString("base64");
      return {
        what: `reqIdentifier ${reqIdentifier} with unreadable data`,
        gzip,
        expect: "bad-data",
        closes: false,
        action: {
          on: "connect",
          send: "binary",
          data: encode(JSON.stringify(envelope({ reqIdentifier, data })), gzip),
        },
      };
    },
  ],
  [
    "huge frame",
    (rng) => {
      // Under the client's frame limit: read, then refused as an envelope; over it: the socket is closed.
      const over = rng() < 0.5;
      const size = over
        ? int(rng, HUGE_FRAME_LIMIT + 1, HUGE_FRAME_LIMIT * 2)
        : int(rng, 64 * 1024, HUGE_FRAME_LIMIT - 1024);
      const text = JSON.stringify({ errMsg: "x".repeat(size) });
      return {
        what: `${text.length}-byte frame (${over ? "over" : "under"} the client's limit)`,
        gzip: false,
        expect: over ? "oversized-frame" : "bad-envelope",
        closes: over,
        action: { on: "connect", send: "binary", data: Buffer.from(text, "utf8") },
      };
    },
  ],
  [
    "gzip bomb",
    () => ({
      what: `${gzipBomb().length} gzipped bytes that inflate to ${MAX_INFLATED_FRAME_BYTES * 2}`,
      gzip: true,
      expect: "gzip-bomb",
      closes: false,
      action: { on: "connect", send: "binary", data: gzipBomb() },
    }),
  ],
  [
    "binary garbage",
    (rng) => {
      const gzip = rng() < 0.5;
      const bytes = Buffer.from(Array.from({ length: int(rng, 1, 2048) }, () => int(rng, 0, 255)));
      // A first byte that starts neither JSON nor a gzip stream, so the expected error is certain.
      bytes[0] = int(rng, 0x00, 0x08);
      return {
        what: `${bytes.length} random bytes${gzip ? " (client expects gzip)" : ""}`,
        gzip,
        expect: gzip ? "not-gzip" : "not-json",
        closes: false,
        action: { on: "connect", send: "binary", data: bytes },
      };
    },
  ],
  [
    "unexpected text frame",
    (rng) => {
      const text = pick(rng, [
        JSON.stringify({ type: "pang" }),
        JSON.stringify({ type: 1 }),
        "not json at all",
        JSON.stringify(envelope()),
        "{".repeat(int(rng, 1, 500)),
        "",
      ]);
      return {
        what: `text frame ${JSON.stringify(text.slice(0, 30))}`,
        gzip: rng() < 0.3,
        expect: "unexpected-text",
        closes: false,
        action: { on: "connect", send: "text", data: Buffer.from(text, "utf8") },
      };
    },
  ],
  [
    "broken WebSocket framing",
    (rng) => {
      const [what, data] = pick(rng, BROKEN_WS_FRAMES);
      return {
        what,
        gzip: false,
        expect: "bad-ws-frame",
        closes: true,
        action: { on: "connect", send: "raw", data },
      };
    },
  ],
  [
    "close in the middle of a send",
    (rng) => {
      const answer = pick(rng, ["terminate", "close"] as const);
      return {
        what: `the server ${answer === "close" ? "closes (1011)" : "drops the TCP connection"} on the request`,
        gzip: rng() < 0.3,
        expect: "closed-mid-request",
        closes: true,
        action: { on: "request", answer },
      };
    },
  ],
  [
    "reply with another reqIdentifier",
    (rng) => {
      const reqIdentifier = pick(rng, [
        ReqIdentifier.PullMsgBySeqList,
        ReqIdentifier.SendMsg,
        ReqIdentifier.PushMsg,
        9999,
      ]);
      return {
        what: `the reply says reqIdentifier ${reqIdentifier}`,
        gzip: rng() < 0.3,
        expect: "mismatched-reply",
        closes: false,
        action: { on: "request", answer: "reply", reqIdentifier, data: Buffer.alloc(0) },
      };
    },
  ],
  [
    "broken reply to a request",
    (rng) => {
      const field = pick(rng, ["errCode", "data", "operationID"]);
      const bad = pick(rng, WRONG_VALUES[field] ?? [null]);
      return {
        what: `reply with ${field}: ${JSON.stringify(bad)}`,
        gzip: rng() < 0.3,
        expect: "bad-envelope",
        closes: false,
        action: {
          on: "request",
          answer: "raw-reply",
          json: (msgIncr) =>
            JSON.stringify(envelope({ reqIdentifier: ReqIdentifier.GetNewestSeq, msgIncr, [field]: bad })),
        },
      };
    },
  ],
];

/** The frame size limit a client under these cases should use, so "huge" stays cheap to generate. */
export const HUGE_FRAME_LIMIT = 256 * 1024;

/** `count` cases from `seed`: the same list on every run for the same seed. */
export function hostileFrameCases(seed: number, count: number): HostileCase[] {
  const rng = seededRandom(seed);
  return Array.from({ length: count }, (_, n) => {
    const [, make] = HOSTILE_MAKERS[n % HOSTILE_MAKERS.length] as [string, Maker];
    return { n, ...make(rng, n) };
  });
}
