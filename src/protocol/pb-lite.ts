/**
 * Just enough of the protobuf wire format to read a few fields of a MsgData and to write small
 * messages field by field, for the paths that run once per message under load: a full decode
 * of a push builds every field (content, options, offline-push info…) as new objects, when
 * the receiver needs five of them. Field numbers: proto sdkws.proto (MsgData, PullMsgs,
 * PushMessages, UserSendMsgResp). Everything else goes through @openim/protocol's coders.
 */

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const utf8Decoder = new TextDecoder();

/**
 * IDs are short ASCII: a loop of fromCharCode is several times cheaper than a TextDecoder call
 * (a crossing into C++ each) for them. Anything else is decoded as UTF-8 (invalid bytes become U+FFFD).
 */
function utf8Slice(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 64) {
    let s = "";
    for (let i = start; i < end; i++) {
      const c = buf[i] as number;
      if (c >= 0x80) return utf8Decoder.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8Decoder.decode(buf.subarray(start, end));
}

/** The MsgData fields a receiver or a no-work server needs, and where the content bytes lie. */
export interface MsgHead {
  sendID: string;
  recvID: string;
  groupID: string;
  clientMsgID: string;
  serverMsgID: string;
  sessionType: number;
  contentType: number;
  seq: number;
  sendTime: number;
  contentStart: number;
  contentEnd: number;
}

/** A reader over one buffer; `pos` moves as fields are read. */
export class PbReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  varint(): number {
    // Up to 2^53 exactly (int64 times and seqs): multiply rather than shift past 31 bits.
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError("protobuf varint runs past the end");
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new RangeError("protobuf varint longer than 10 bytes");
  }

  /** Reads a length prefix; returns the end of the field's bytes and leaves pos at their start. */
  lengthEnd(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.end) throw new RangeError("protobuf field runs past the end");
    return end;
  }

  string(): string {
    const end = this.lengthEnd();
    const s = utf8Slice(this.buf, this.pos, end);
    this.pos = end;
    return s;
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.pos += 8;
    else if (wire === WIRE_LEN) this.pos = this.lengthEnd();
    else if (wire === WIRE_I32) this.pos += 4;
    else throw new RangeError(`protobuf wire type ${wire} is not supported`);
    if (this.pos > this.end) throw new RangeError("protobuf field runs past the end");
  }
}

/** Reads the head of a MsgData lying in buf[start, end); throws RangeError on a broken message. */
export function readMsgHead(buf: Uint8Array, start = 0, end = buf.length): MsgHead {
  const r = new PbReader(buf, start, end);
  const h: MsgHead = {
    sendID: "",
    recvID: "",
    groupID: "",
    clientMsgID: "",
    serverMsgID: "",
    sessionType: 0,
    contentType: 0,
    seq: 0,
    sendTime: 0,
    contentStart: 0,
    contentEnd: 0,
  };
  while (r.pos < end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    // Later occurrences win, as protobuf says for scalars and strings: an appended field overrides.
    if (wire === WIRE_LEN && field <= 5) {
      const s = r.string();
      if (field === 1) h.sendID = s;
      else if (field === 2) h.recvID = s;
      else if (field === 3) h.groupID = s;
      else if (field === 4) h.clientMsgID = s;
      else h.serverMsgID = s;
    } else if (wire === WIRE_LEN && field === 12) {
      const contentEnd = r.lengthEnd();
      h.contentStart = r.pos;
      h.contentEnd = contentEnd;
      r.pos = contentEnd;
    } else if (wire === WIRE_VARINT && (field === 9 || field === 11 || field === 14 || field === 15)) {
      const v = r.varint();
      if (field === 9) h.sessionType = v;
      else if (field === 11) h.contentType = v;
      else if (field === 14) h.seq = v;
      else h.sendTime = v;
    } else r.skip(wire);
  }
  return h;
}

/** A growable byte writer for small messages. */
export class PbWriter {
  private buf: Buffer;
  len = 0;

  constructor(capacity = 256) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  varint(value: number): this {
    this.room(10);
    let v = value;
    while (v > 0x7f) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  uintField(field: number, value: number): this {
    return value === 0 ? this : this.tag(field, WIRE_VARINT).varint(value);
  }

  stringField(field: number, value: string): this {
    if (value === "") return this;
    if (value.length < 128 && this.asciiField(field, value)) return this;
    const n = Buffer.byteLength(value);
    this.tag(field, WIRE_LEN).varint(n);
    this.room(n);
    this.len += this.buf.write(value, this.len);
    return this;
  }

  /** A short ASCII string written byte by byte (no native call); false, with nothing written, if it is not ASCII. */
  private asciiField(field: number, value: string): boolean {
    const at = this.len;
    this.tag(field, WIRE_LEN).varint(value.length);
    this.room(value.length);
    const buf = this.buf;
    let o = this.len;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) {
        this.len = at;
        return false;
      }
      buf[o++] = c;
    }
    this.len = o;
    return true;
  }

  bytesField(field: number, bytes: Uint8Array, start = 0, end = bytes.length): this {
    this.tag(field, WIRE_LEN).varint(end - start);
    this.room(end - start);
    this.buf.set(bytes.subarray(start, end), this.len);
    this.len += end - start;
    return this;
  }

  /** What was written, without a copy (the writer must not be written to again). */
  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** A copy of what was written. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

/** UserSendMsgResp (the ack's data). */
export function encodeSendMsgResp(serverMsgID: string, clientMsgID: string, sendTime: number): Buffer {
  return new PbWriter(96)
    .stringField(1, serverMsgID)
    .stringField(2, clientMsgID)
    .uintField(3, sendTime)
    .finish();
}

/**
 * A PushMessages with one message in one conversation, built from the MsgData bytes as sent
 * and the fields the server fills in appended after them (protobuf: the last occurrence wins):
 * no decode and re-encode of the message.
 */
export function encodePushOfSent(
  sent: Uint8Array,
  conversationID: string,
  server: { serverMsgID: string; seq: number; sendTime: number; status: number },
): Buffer {
  const extra = new PbWriter(64)
    .stringField(5, server.serverMsgID)
    .uintField(14, server.seq)
    .uintField(15, server.sendTime)
    .uintField(17, server.status);
  const msgLen = sent.length + extra.len;
  const pull = new PbWriter(msgLen + 16).tag(1, WIRE_LEN).varint(msgLen);
  const msg = Buffer.concat([pull.finish(), sent, extra.finish()]);
  const entry = new PbWriter(msg.length + conversationID.length + 16)
    .stringField(1, conversationID)
    .bytesField(2, msg);
  return new PbWriter(entry.len + 8).bytesField(1, entry.finish()).finish();
}

/** UserSendMsgResp read without the generated decoder. */
export function readSendMsgResp(buf: Uint8Array): {
  serverMsgID: string;
  clientMsgID: string;
  sendTime: number;
} {
  const r = new PbReader(buf);
  const out = { serverMsgID: "", clientMsgID: "", sendTime: 0 };
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === WIRE_LEN && field === 1) out.serverMsgID = r.string();
    else if (wire === WIRE_LEN && field === 2) out.clientMsgID = r.string();
    else if (wire === WIRE_VARINT && field === 3) out.sendTime = r.varint();
    else r.skip(wire);
  }
  return out;
}

/** A pushed message as a receiver under load needs it: its head and its text, nothing else decoded. */
export interface PushedMsg extends Omit<MsgHead, "contentStart" | "contentEnd"> {
  conversationID: string;
  /** True when it came from the notificationMsgs map (`n_` conversations). */
  notification: boolean;
  /** The text of a `{"content":"…"}` body (contentType 101 only); undefined otherwise. */
  text: string | undefined;
}

const TEXT_CONTENT_TYPE = 101;
const CONTENT_OPEN = Buffer.from('{"content":"');
const CONTENT_CLOSE = Buffer.from('"}');
const BACKSLASH = 0x5c;

/**
 * The text of a text body. A body with nothing to unescape (what load messages are) is
 * sliced out as it stands; anything else goes through JSON.parse as content.ts does.
 */
function textOf(buf: Uint8Array, start: number, end: number): string | undefined {
  const open = CONTENT_OPEN.length;
  if (
    end - start >= open + CONTENT_CLOSE.length &&
    startsWith(buf, start, CONTENT_OPEN) &&
    buf[end - 2] === CONTENT_CLOSE[0] &&
    buf[end - 1] === CONTENT_CLOSE[1]
  ) {
    const inner = buf.subarray(start + open, end - 2);
    if (inner.indexOf(BACKSLASH) < 0 && inner.indexOf(0x22) < 0) {
      try {
        return fatalDecoder.decode(inner);
      } catch {
        return undefined;
      }
    }
  }
  try {
    const parsed: unknown = JSON.parse(fatalDecoder.decode(buf.subarray(start, end)));
    const text = (parsed as { content?: unknown } | null)?.content;
    return typeof parsed === "object" && typeof text === "string" ? text : undefined;
  } catch {
    return undefined;
  }
}
const fatalDecoder = new TextDecoder("utf-8", { fatal: true });

function startsWith(buf: Uint8Array, at: number, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/** Every message of a PushMessages (2001's data), flattened, msgs before notificationMsgs. */
export function readPushMessages(buf: Uint8Array): PushedMsg[] {
  const out: PushedMsg[] = [];
  const notes: PushedMsg[] = [];
  const r = new PbReader(buf);
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire !== WIRE_LEN || (field !== 1 && field !== 2)) {
      r.skip(wire);
      continue;
    }
    const entryEnd = r.lengthEnd();
    const e = new PbReader(buf, r.pos, entryEnd);
    r.pos = entryEnd;
    let conversationID = "";
    let pullStart = 0;
    let pullEnd = 0;
    while (e.pos < e.end) {
      const t = e.varint();
      if (t === (1 << 3) + WIRE_LEN) conversationID = e.string();
      else if (t === (2 << 3) + WIRE_LEN) {
        pullEnd = e.lengthEnd();
        pullStart = e.pos;
        e.pos = pullEnd;
      } else e.skip(t & 7);
    }
    const p = new PbReader(buf, pullStart, pullEnd);
    while (p.pos < p.end) {
      const t = p.varint();
      if (t !== (1 << 3) + WIRE_LEN) {
        p.skip(t & 7);
        continue;
      }
      const msgEnd = p.lengthEnd();
      const h = readMsgHead(buf, p.pos, msgEnd);
      p.pos = msgEnd;
      // Written out field by field: an object spread here costs more than the whole read.
      (field === 1 ? out : notes).push({
        sendID: h.sendID,
        recvID: h.recvID,
        groupID: h.groupID,
        clientMsgID: h.clientMsgID,
        serverMsgID: h.serverMsgID,
        sessionType: h.sessionType,
        contentType: h.contentType,
        seq: h.seq,
        sendTime: h.sendTime,
        conversationID,
        notification: field === 2,
        text: h.contentType === TEXT_CONTENT_TYPE ? textOf(buf, h.contentStart, h.contentEnd) : undefined,
      });
    }
  }
  return notes.length > 0 ? out.concat(notes) : out;
}
