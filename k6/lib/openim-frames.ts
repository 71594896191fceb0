import { base64Decode, base64Encode, utf8Decode, utf8Encode } from "./bytes.js";

/**
 * The message gateway's JSON envelope (sdkType=js; docs/openim-protocol.md §1 "Frame envelope"):
 * requests only in binary frames, `data` the protobuf request as base64. The same envelope as
 * src/protocol/ws-frames.ts, without its node:zlib and Buffer (no gzip here: the scripts
 * never ask for compression).
 */

export const ReqIdentifier = { SendMsg: 1003, PushMsg: 2001, KickOnlineMsg: 2002 } as const;

export interface GatewayRequest {
  reqIdentifier: number;
  sendID: string;
  operationID: string;
  msgIncr: string;
  data: Uint8Array;
}

export interface GatewayResponse {
  reqIdentifier: number;
  msgIncr: string;
  errCode: number;
  errMsg: string;
  data: Uint8Array;
}

/** An ArrayBuffer of exactly the frame's bytes, as k6/websockets sends it in a binary frame. */
export function encodeRequest(req: GatewayRequest): ArrayBuffer {
  const json = JSON.stringify({
    reqIdentifier: req.reqIdentifier,
    token: "", // the gateway never reads it: the connection is authenticated at the upgrade
    sendID: req.sendID,
    operationID: req.operationID,
    msgIncr: req.msgIncr,
    data: base64Encode(req.data),
  });
  const bytes = utf8Encode(json);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** One binary frame from the gateway; throws when it is not an envelope (the caller counts it as an error). */
export function decodeResponse(frame: ArrayBuffer): GatewayResponse {
  const parsed: unknown = JSON.parse(utf8Decode(new Uint8Array(frame)));
  if (typeof parsed !== "object" || parsed === null) throw new Error("gateway frame is not a JSON object");
  const o = parsed as Record<string, unknown>;
  if (typeof o.reqIdentifier !== "number" || typeof o.errCode !== "number")
    throw new Error("gateway frame has no reqIdentifier/errCode");
  return {
    reqIdentifier: o.reqIdentifier,
    msgIncr: typeof o.msgIncr === "string" ? o.msgIncr : "",
    errCode: o.errCode,
    errMsg: typeof o.errMsg === "string" ? o.errMsg : "",
    // A nil []byte marshals as null (kick frames, empty replies).
    data: typeof o.data === "string" ? base64Decode(o.data) : new Uint8Array(0),
  };
}

/** The gateway URL with the query the handshake reads (docs/openim-protocol.md §1 "Query parameters"). */
export function gatewayUrl(wsBase: string, userID: string, token: string, platformID: number): string {
  const q = [
    ["sendID", userID],
    ["token", token],
    ["platformID", String(platformID)],
    ["operationID", `k6_${userID}_${Date.now()}`],
    ["sdkType", "js"],
    ["isBackground", "false"],
  ]
    .map(([k, v]) => `${k}=${encodeURIComponent(v ?? "")}`)
    .join("&");
  return `${wsBase}${wsBase.includes("?") ? "&" : "?"}${q}`;
}

/** Text frames carry only the heartbeat (server: client.go handlerTextMessage). */
export const TEXT_PING = JSON.stringify({ type: "ping" });
