/**
 * Protobuf encoders for the few request messages @openim/protocol 0.0.7 has no coder for.
 * Each is a handful of scalar fields, so a tiny writer is safer than a second protobuf
 * library. Field numbers: proto sdkws.proto (GetMaxSeqReq, SetAppBackgroundStatusReq) and
 * push.proto (DelUserPushTokenReq).
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const utf8 = new TextEncoder();

function pushVarint(out: number[], value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`varint out of range: ${value}`);
  }
  let v = value;
  while (v > 0x7f) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function pushString(out: number[], field: number, value: string): void {
  if (value === "") return; // proto3 omits default values
  const bytes = utf8.encode(value);
  pushVarint(out, (field << 3) | WIRE_LEN);
  pushVarint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

function pushUint(out: number[], field: number, value: number): void {
  if (value === 0) return;
  pushVarint(out, (field << 3) | WIRE_VARINT);
  pushVarint(out, value);
}

export function encodeGetMaxSeqReq(req: { userID: string }): Uint8Array {
  const out: number[] = [];
  pushString(out, 1, req.userID);
  return Uint8Array.from(out);
}

export function encodeSetAppBackgroundStatusReq(req: { userID: string; isBackground: boolean }): Uint8Array {
  const out: number[] = [];
  pushString(out, 1, req.userID);
  pushUint(out, 2, req.isBackground ? 1 : 0);
  return Uint8Array.from(out);
}

export function encodeDelUserPushTokenReq(req: { userID: string; platformID: number }): Uint8Array {
  const out: number[] = [];
  pushString(out, 1, req.userID);
  pushUint(out, 2, req.platformID);
  return Uint8Array.from(out);
}
