import { gunzipSync, gzipSync } from "node:zlib";
import { z } from "zod";

/**
 * The msg gateway's frame envelope for sdkType=js (server: internal/msggateway/
 * message_handler.go Req/Resp, encoder.go JsonEncoder). The envelope is JSON; its `data`
 * is protobuf bytes, which Go's encoding/json writes as base64. Requests must travel in
 * binary frames; with compression=gzip every binary frame is gzipped both ways.
 */

export const ReqIdentifier = {
  GetNewestSeq: 1001,
  PullMsgBySeqList: 1002,
  SendMsg: 1003,
  SendSignalMsg: 1004,
  PullMsg: 1005,
  GetConvMaxReadSeq: 1006,
  PullConvLastMessage: 1007,
  PushMsg: 2001,
  KickOnlineMsg: 2002,
  Logout: 2003,
  SetBackgroundStatus: 2004,
  SubUserOnlineStatus: 2005,
  DataError: 3001,
} as const;

export type ReqIdentifierValue = (typeof ReqIdentifier)[keyof typeof ReqIdentifier];

export interface WsRequest {
  reqIdentifier: number;
  token: string;
  sendID: string;
  operationID: string;
  msgIncr: string;
  data: Uint8Array;
}

export interface WsResponse {
  reqIdentifier: number;
  msgIncr: string;
  operationID: string;
  errCode: number;
  errMsg: string;
  data: Uint8Array;
}

export const wsResponseSchema = z.object({
  reqIdentifier: z.number().int(),
  msgIncr: z.string(),
  operationID: z.string(),
  errCode: z.number().int(),
  errMsg: z.string(),
  // A nil []byte marshals as null (kick frames, empty replies).
  data: z.string().nullable(),
});

export interface FrameCodecOptions {
  gzip: boolean;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * The same bytes as JSON.stringify of the envelope object (same key order, same escaping),
 * written as one template: this runs once per message sent under load.
 */
export function encodeRequestFrame(req: WsRequest, opts: FrameCodecOptions): Buffer {
  const json = `{"reqIdentifier":${req.reqIdentifier},"token":${JSON.stringify(req.token)},"sendID":${JSON.stringify(req.sendID)},"operationID":${JSON.stringify(req.operationID)},"msgIncr":${JSON.stringify(req.msgIncr)},"data":"${toBase64(req.data)}"}`;
  const raw = Buffer.from(json, "utf8");
  return opts.gzip ? gzipSync(raw) : raw;
}

/** The part of a request envelope that is the same for every request of a kind from one user. */
export function requestFrameHead(reqIdentifier: number, token: string, sendID: string): string {
  return `{"reqIdentifier":${reqIdentifier},"token":${JSON.stringify(token)},"sendID":${JSON.stringify(sendID)},`;
}

/** encodeRequestFrame's bytes (uncompressed), from a head made by requestFrameHead. */
export function encodeRequestFrameAfter(
  head: string,
  operationID: string,
  msgIncr: string,
  data: Uint8Array,
): Buffer {
  return Buffer.from(
    `${head}"operationID":${JSON.stringify(operationID)},"msgIncr":${JSON.stringify(msgIncr)},"data":"${toBase64(data)}"}`,
    "utf8",
  );
}

/**
 * Why a binary frame could not be read. A gzip bomb is named apart from plain garbage: it is
 * what a hostile server sends to exhaust the client's memory.
 */
export type FrameFault = "not-gzip" | "gzip-bomb" | "not-json" | "bad-envelope";

export class FrameDecodeError extends Error {
  override readonly name = "FrameDecodeError";
  constructor(
    message: string,
    readonly fault: FrameFault,
    /** The envelope's msgIncr when the frame was JSON enough to carry one: its request can fail at once. */
    readonly msgIncr?: string,
  ) {
    super(message);
  }
}

/**
 * The most a compressed frame may inflate to. OpenIM's largest frames are pulls of a few
 * hundred messages (well under 1 MiB); inflating without a bound lets one 1 MiB frame become
 * a gigabyte in the client.
 */
export const MAX_INFLATED_FRAME_BYTES = 16 * 1024 * 1024;

function inflate(frame: Uint8Array): Buffer {
  try {
    return gunzipSync(frame, { maxOutputLength: MAX_INFLATED_FRAME_BYTES });
  } catch (err) {
    if ((err as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE")
      throw new FrameDecodeError(
        `binary frame inflates past ${MAX_INFLATED_FRAME_BYTES} bytes (a gzip bomb)`,
        "gzip-bomb",
      );
    throw new FrameDecodeError(`binary frame is not gzip (${(err as Error).message})`, "not-gzip");
  }
}

function msgIncrOf(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null || !("msgIncr" in json)) return undefined;
  return typeof json.msgIncr === "string" && json.msgIncr !== "" ? json.msgIncr : undefined;
}

/** Decodes one binary frame from the gateway; throws FrameDecodeError when it is not a valid envelope. */
export function decodeResponseFrame(frame: Uint8Array, opts: FrameCodecOptions): WsResponse {
  const raw = opts.gzip
    ? inflate(frame)
    : Buffer.isBuffer(frame)
      ? frame
      : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    // Printable characters only: the frame may be binary garbage.
    const shown = raw
      .subarray(0, 80)
      .toString("utf8")
      .replace(/[^\x20-\x7e]/g, "?");
    throw new FrameDecodeError(`binary frame is not JSON: ${shown}`, "not-json");
  }
  const parsed = wsResponseSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FrameDecodeError(
      `binary frame is not a gateway response envelope: ${issue ? `${issue.path.join(".") || "frame"}: ${issue.message}` : "invalid"}`,
      "bad-envelope",
      msgIncrOf(json),
    );
  }
  // Fields spelled out: an object rest/spread here cost more than the JSON.parse (once per frame).
  const e = parsed.data;
  return {
    reqIdentifier: e.reqIdentifier,
    msgIncr: e.msgIncr,
    operationID: e.operationID,
    errCode: e.errCode,
    errMsg: e.errMsg,
    data: e.data === null ? new Uint8Array(0) : Buffer.from(e.data, "base64"),
  };
}

/** What a test server (or anything that speaks for the gateway) would send. */
export function encodeResponseFrame(resp: WsResponse, opts: FrameCodecOptions): Buffer {
  const json = JSON.stringify({ ...resp, data: resp.data.length === 0 ? null : toBase64(resp.data) });
  const raw = Buffer.from(json, "utf8");
  return opts.gzip ? gzipSync(raw) : raw;
}

/** The inverse of encodeRequestFrame, for test servers. */
export function decodeRequestFrame(frame: Uint8Array, opts: FrameCodecOptions): WsRequest {
  const raw = opts.gzip ? gunzipSync(frame) : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const parsed = z
    .object({
      reqIdentifier: z.number().int(),
      token: z.string(),
      sendID: z.string(),
      operationID: z.string(),
      msgIncr: z.string(),
      data: z.string().nullable(),
    })
    .parse(JSON.parse(raw.toString("utf8")));
  return { ...parsed, data: parsed.data === null ? new Uint8Array(0) : Buffer.from(parsed.data, "base64") };
}

/** Text frames are never compressed (server: client.go handlerTextMessage). */
export const TEXT_PING = JSON.stringify({ type: "ping" });

export function textFrameType(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      typeof parsed === "object" &&
      parsed !== null &&
      "type" in parsed &&
      typeof parsed.type === "string"
    ) {
      return parsed.type;
    }
  } catch {
    // not JSON: the caller decides what an unknown text frame means
  }
  return undefined;
}
