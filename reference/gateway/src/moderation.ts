import { type GatewayMetrics, hookLabel } from "./gateway-metrics.js";
import type { UserStore } from "./user-store.js";

/**
 * OpenIM's message webhooks (docs/openim-protocol.md §6; server: pkg/callbackstruct). A deny is
 * `actionCode 0` + `nextCode 1` + the errCode the sender will see; anything else allows.
 * Before-send hooks are synchronous and an unreachable hook fails every send, so this must
 * answer fast and always answer.
 */

export interface CallbackRequest {
  callbackCommand?: string;
  sendID?: string;
  recvID?: string;
  groupID?: string;
  clientMsgID?: string;
  serverMsgID?: string;
  contentType?: number;
  content?: string;
  seq?: number;
}

export interface CallbackResponse {
  actionCode: number;
  errCode: number;
  errMsg: string;
  errDlt: string;
  nextCode: number;
}

export interface ModerationEvent {
  at: number;
  command: string;
  decision: "allow" | "deny" | "recorded";
  reason?: string;
  sendID?: string;
  recvID?: string;
  groupID?: string;
  clientMsgID?: string;
  serverMsgID?: string;
  seq?: number;
}

const ALLOW: CallbackResponse = { actionCode: 0, errCode: 0, errMsg: "", errDlt: "", nextCode: 0 };
const MAX_EVENTS = 5000;

/** The text a user typed, from a text message's `{"content": "..."}`; other types are checked as raw JSON. */
function textOf(content: string | undefined): string {
  if (!content) return "";
  try {
    const parsed = JSON.parse(content) as { content?: unknown };
    return typeof parsed.content === "string" ? parsed.content : content;
  } catch {
    return content;
  }
}

export function moderation(
  users: UserStore,
  initialWords: string[],
  denyErrCode: number,
  metrics: Pick<GatewayMetrics, "webhookCalls" | "webhookSeconds">,
) {
  const bannedWords = new Set(initialWords.map((w) => w.toLowerCase()));
  const events: ModerationEvent[] = [];
  const counts = { allowed: 0, denied: 0, afterSend: 0 };
  const record = (event: ModerationEvent) => {
    events.push(event);
    if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
  };

  async function decide(req: CallbackRequest): Promise<{ deny?: string }> {
    if (req.sendID && (await users.isBanned(req.sendID))) return { deny: "sender is banned" };
    const text = textOf(req.content).toLowerCase();
    for (const word of bannedWords)
      if (text.includes(word)) return { deny: "message contains a banned word" };
    return {};
  }

  type Result = "allow" | "deny" | "recorded" | "ignored";

  async function answer(command: string, req: CallbackRequest): Promise<[CallbackResponse, Result]> {
    const base = {
      at: Date.now(),
      command,
      sendID: req.sendID,
      recvID: req.recvID,
      groupID: req.groupID,
      clientMsgID: req.clientMsgID,
      serverMsgID: req.serverMsgID,
      seq: req.seq,
    };
    if (command.startsWith("callbackBeforeSend")) {
      const { deny } = await decide(req);
      if (deny) {
        counts.denied += 1;
        record({ ...base, decision: "deny", reason: deny });
        const refusal: CallbackResponse = {
          actionCode: 0,
          errCode: denyErrCode,
          errMsg: deny,
          errDlt: "denied by the gateway's moderation hook",
          nextCode: 1,
        };
        return [refusal, "deny"];
      }
      counts.allowed += 1;
      record({ ...base, decision: "allow" });
      return [ALLOW, "allow"];
    }
    if (command.startsWith("callbackAfterSend")) {
      counts.afterSend += 1;
      record({ ...base, decision: "recorded" });
      return [ALLOW, "recorded"];
    }
    return [ALLOW, "ignored"];
  }

  return {
    async handle(command: string, req: CallbackRequest): Promise<CallbackResponse> {
      const hook = hookLabel(command);
      const answered = metrics.webhookSeconds.startTimer({ hook });
      // Stays "error" when deciding throws (Redis gone): the route answers 502 and OpenIM fails the send.
      let result: Result | "error" = "error";
      try {
        const [response, decided] = await answer(command, req);
        result = decided;
        return response;
      } finally {
        // Counted once the answer is decided (or deciding failed), whatever the route then sends.
        answered();
        metrics.webhookCalls.inc({ hook, result });
      }
    },
    addWords(words: string[]): string[] {
      for (const w of words) bannedWords.add(w.toLowerCase());
      return [...bannedWords];
    },
    removeWords(words: string[]): string[] {
      for (const w of words) bannedWords.delete(w.toLowerCase());
      return [...bannedWords];
    },
    words: () => [...bannedWords],
    events: (filter: { clientMsgID?: string; sendID?: string }) =>
      events.filter(
        (e) =>
          (!filter.clientMsgID || e.clientMsgID === filter.clientMsgID) &&
          (!filter.sendID || e.sendID === filter.sendID),
      ),
    counts: () => ({ ...counts }),
  };
}

export type Moderation = ReturnType<typeof moderation>;
