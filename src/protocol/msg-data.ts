import { PbCoder, type SdkWsProto } from "@openim/protocol";
import { ContentType, encodeTextContent } from "./content.js";
import { newClientMsgID, SessionType } from "./ids.js";
import { PbWriter } from "./pb-lite.js";

export type MsgData = SdkWsProto.MsgData;

/** msgFrom values (proto: constant/constant.go). */
export const MsgFrom = { User: 100, System: 200 } as const;

/** MsgData.status: 1 = sending, as the SDK sets it before the server acknowledges. */
export const MsgStatus = { Sending: 1, SendSuccess: 2, SendFailed: 3 } as const;

/**
 * A MsgData with every field at its proto3 default. The generated encoder touches every
 * field and throws on undefined, so messages are always built on top of this.
 */
export function emptyMsgData(): MsgData {
  return PbCoder.MsgData.decode(new Uint8Array(0));
}

export interface TextMsgParams {
  sendID: string;
  senderPlatformID: number;
  /** Exactly one of recvID (single chat) or groupID (group chat). */
  recvID?: string;
  groupID?: string;
  text: string;
  clientMsgID?: string;
  senderNickname?: string;
  ex?: string;
  options?: Record<string, boolean>;
  /** Creation time in ms; injectable so a load run can stamp its intended send time. */
  createTime?: number;
}

/** The MsgData the official SDK sends for a text (sdk: conversation_msg/api.go sendMessageToServer). */
export function buildTextMsg(p: TextMsgParams): MsgData {
  const single = p.recvID !== undefined && p.recvID !== "";
  const group = p.groupID !== undefined && p.groupID !== "";
  if (single === group) throw new Error("a text message needs exactly one of recvID or groupID");
  const msg = emptyMsgData();
  msg.sendID = p.sendID;
  msg.recvID = single ? (p.recvID ?? "") : "";
  msg.groupID = group ? (p.groupID ?? "") : "";
  msg.clientMsgID = p.clientMsgID ?? newClientMsgID();
  msg.senderPlatformID = p.senderPlatformID;
  msg.senderNickname = p.senderNickname ?? "";
  msg.sessionType = single ? SessionType.Single : SessionType.Group;
  msg.msgFrom = MsgFrom.User;
  msg.contentType = ContentType.Text;
  msg.content = encodeTextContent(p.text);
  msg.createTime = p.createTime ?? Date.now();
  msg.sendTime = 0; // the server fills it in only when 0
  msg.status = MsgStatus.Sending;
  msg.options = p.options ?? {};
  msg.ex = p.ex ?? "";
  return msg;
}

/**
 * The bytes of PbCoder.MsgData.encode(buildTextMsg(p)), written field by field in the coder's
 * order without building the message object first: this runs once per message sent under
 * load, and the object (every field of MsgData, options map included) is garbage at once.
 * Messages with options fall back to the coder.
 */
export function encodeTextMsg(p: TextMsgParams & { clientMsgID: string; createTime: number }): Uint8Array {
  if (p.options && Object.keys(p.options).length > 0) return PbCoder.MsgData.encode(buildTextMsg(p)).finish();
  const single = p.recvID !== undefined && p.recvID !== "";
  const group = p.groupID !== undefined && p.groupID !== "";
  if (single === group) throw new Error("a text message needs exactly one of recvID or groupID");
  const content = `{"content":${JSON.stringify(p.text)}}`;
  return new PbWriter(128 + content.length * 3)
    .stringField(1, p.sendID)
    .stringField(2, single ? (p.recvID ?? "") : "")
    .stringField(3, group ? (p.groupID ?? "") : "")
    .stringField(4, p.clientMsgID)
    .uintField(6, p.senderPlatformID)
    .stringField(7, p.senderNickname ?? "")
    .uintField(9, single ? SessionType.Single : SessionType.Group)
    .uintField(10, MsgFrom.User)
    .uintField(11, ContentType.Text)
    .stringField(12, content)
    .uintField(16, p.createTime)
    .uintField(17, MsgStatus.Sending)
    .stringField(23, p.ex ?? "")
    .view();
}
