import { utf8Decode, utf8Encode } from "./bytes.js";
import { fieldInt, fieldString, ProtoWriter, readFields } from "./protobuf.js";

/**
 * The protobuf payloads of a text send and of a push, by field number (proto: sdkws.proto
 * MsgData, PushMessages, PullMsgs; msg.proto SendMsgResp), as the official SDK
 * fills them (src/protocol/msg-data.ts buildTextMsg).
 */

const SessionType = { Single: 1, Group: 3 } as const;
const CONTENT_TEXT = 101;
const MSG_FROM_USER = 100;
const STATUS_SENDING = 1;

export interface TextMessage {
  sendID: string;
  platformID: number;
  /** Exactly one of recvID (one-to-one) and groupID. */
  recvID?: string;
  groupID?: string;
  clientMsgID: string;
  text: string;
}

/**
 * The MsgData of a text, as request 1003's data: the gateway unmarshals the bytes as MsgData
 * itself, not wrapped in SendMsgReq (server: internal/msggateway/message_handler.go SendMessage).
 */
export function encodeTextMsgData(m: TextMessage): Uint8Array {
  const group = m.groupID !== undefined && m.groupID !== "";
  return new ProtoWriter()
    .string(1, m.sendID)
    .string(2, group ? "" : (m.recvID ?? ""))
    .string(3, group ? (m.groupID ?? "") : "")
    .string(4, m.clientMsgID)
    .uint(6, m.platformID)
    .uint(9, group ? SessionType.Group : SessionType.Single)
    .uint(10, MSG_FROM_USER)
    .uint(11, CONTENT_TEXT)
    .bytes(12, utf8Encode(JSON.stringify({ content: m.text })))
    .uint(16, Date.now())
    .uint(17, STATUS_SENDING)
    .finish();
}

export interface SendAck {
  serverMsgID: string;
  clientMsgID: string;
}

export function decodeSendMsgResp(data: Uint8Array): SendAck {
  const f = readFields(data);
  return { serverMsgID: fieldString(f, 1), clientMsgID: fieldString(f, 2) };
}

export interface PushedText {
  conversationID: string;
  sendID: string;
  clientMsgID: string;
  seq: number;
  /** The text of a text message; undefined for any other content. */
  text: string | undefined;
}

/** The user messages of a 2001 push (the msgs map; notificationMsgs are the server's, not a user's). */
export function decodePushMessages(data: Uint8Array): PushedText[] {
  const out: PushedText[] = [];
  for (const entry of readFields(data)) {
    if (entry.field !== 1) continue;
    const kv = readFields(entry.bytes);
    const conversationID = fieldString(kv, 1);
    const pulled = kv.find((x) => x.field === 2);
    if (!pulled) continue;
    for (const m of readFields(pulled.bytes)) {
      if (m.field !== 1) continue;
      const msg = readFields(m.bytes);
      const contentType = fieldInt(msg, 11);
      out.push({
        conversationID,
        sendID: fieldString(msg, 1),
        clientMsgID: fieldString(msg, 4),
        seq: fieldInt(msg, 14),
        text: contentType === CONTENT_TEXT ? textOf(msg.find((x) => x.field === 12)?.bytes) : undefined,
      });
    }
  }
  return out;
}

function textOf(content: Uint8Array | undefined): string | undefined {
  if (!content) return undefined;
  try {
    const parsed: unknown = JSON.parse(utf8Decode(content));
    if (typeof parsed === "object" && parsed !== null && "content" in parsed)
      return typeof parsed.content === "string" ? parsed.content : undefined;
  } catch {
    // not a text body
  }
  return undefined;
}
