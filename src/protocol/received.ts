import type { SdkWsProto } from "@openim/protocol";
import type { MsgData } from "./msg-data.js";

/**
 * A message as it reached a client (a 2001 push or a 1002 pull), tagged with the
 * conversation it was filed under. Pushes and pulls key messages by conversationID in two
 * maps (`msgs`, `notificationMsgs`); consumers want one flat list.
 */
export type ReceivedMsg = MsgData & {
  conversationID: string;
  /** True when it came from the notificationMsgs map (`n_` conversations). */
  notification: boolean;
};

type ConversationMap = Record<string, SdkWsProto.PullMsgs>;

export function flattenConversationMaps(
  msgs: ConversationMap,
  notificationMsgs: ConversationMap,
): ReceivedMsg[] {
  const out: ReceivedMsg[] = [];
  collect(out, msgs, false);
  collect(out, notificationMsgs, true);
  return out;
}

function collect(out: ReceivedMsg[], byConversation: ConversationMap, notification: boolean): void {
  for (const [conversationID, pulled] of Object.entries(byConversation)) {
    for (const msg of pulled.Msgs) {
      // Tag in place: decoded messages are fresh objects nobody else holds.
      out.push(Object.assign(msg, { conversationID, notification }));
    }
  }
}

/** isEnd per conversation of a 1002 answer (true when the range reached the newest seq). */
export function endFlags(msgs: ConversationMap, notificationMsgs: ConversationMap): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [id, pulled] of Object.entries(msgs)) out[id] = pulled.isEnd;
  for (const [id, pulled] of Object.entries(notificationMsgs)) out[id] = pulled.isEnd;
  return out;
}
