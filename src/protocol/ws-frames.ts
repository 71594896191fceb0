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

export function encodeRequestFrame(req: WsRequest, opts: FrameCodecOptions): Buffer {
  const json = JSON.stringify({
    reqIdentifier: req.reqIdentifier,
    token: req.token,
    sendID: req.sendID,
    operationID: req.operationID,
    msgIncr: req.msgIncr,
    data: toBase64(req.data),
  });
  const raw = Buffer.from(json, "utf8");
  return opts.gzip ? gzipSync(raw) : raw;
}

export class FrameDecodeError extends Error {
  override readonly name = "FrameDecodeError";
}

/** Decodes one binary frame from the gateway; throws FrameDecodeError when it is not a valid envelope. */
export function decodeResponseFrame(frame: Uint8Array, opts: FrameCodecOptions): WsResponse {
  let raw: Buffer;
  try {
    raw = opts.gzip ? gunzipSync(frame) : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  } catch (err) {
    throw new FrameDecodeError(`binary frame is not gzip (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new FrameDecodeError(`binary frame is not JSON: ${raw.subarray(0, 80).toString("utf8")}`);
  }
  const parsed = wsResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw new FrameDecodeError(`binary frame is not a gateway response envelope: ${parsed.error.message}`);
  }
  const { data, ...rest } = parsed.data;
  return { ...rest, data: data === null ? new Uint8Array(0) : Buffer.from(data, "base64") };
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
