import { randomBytes } from "node:crypto";

/**
 * Identifiers OpenIM derives or expects. Conversation IDs must match the server's
 * exactly (docs/openim-protocol.md §2 "Conversation ID formats"), because seqs, pulls and
 * pushes are all keyed by them.
 */

// Go compares strings byte-wise over UTF-8; JS `<` compares UTF-16 code units. They only
// disagree outside ASCII, so the byte comparison is kept for that case.
function goStringLess(a: string, b: string): boolean {
  if (isAscii(a) && isAscii(b)) return a < b;
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")) < 0;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function sortedPair(a: string, b: string): [string, string] {
  return goStringLess(b, a) ? [b, a] : [a, b];
}

export function singleConversationID(userA: string, userB: string): string {
  const [lo, hi] = sortedPair(userA, userB);
  return `si_${lo}_${hi}`;
}

export function groupConversationID(groupID: string): string {
  return `sg_${groupID}`;
}

export function notificationConversationID(userA: string, userB: string): string {
  const [lo, hi] = sortedPair(userA, userB);
  return `sn_${lo}_${hi}`;
}

export const SessionType = { Single: 1, WriteGroup: 2, Group: 3, Notification: 4 } as const;

/** The conversation an ordinary (non `n_`) message lands in, as msgprocessor.GetConversationIDByMsg does. */
export function conversationIDOf(msg: {
  sessionType: number;
  sendID: string;
  recvID: string;
  groupID: string;
}): string | undefined {
  switch (msg.sessionType) {
    case SessionType.Single:
      return singleConversationID(msg.sendID, msg.recvID);
    case SessionType.WriteGroup:
      return `g_${msg.groupID}`;
    case SessionType.Group:
      return groupConversationID(msg.groupID);
    case SessionType.Notification:
      return notificationConversationID(msg.sendID, msg.recvID);
    default:
      return undefined;
  }
}

// A per-process random prefix plus a counter: unique across worker threads and
// processes with overwhelming probability, and costs one increment per id.
const processTag = randomBytes(6).toString("hex");
let counter = 0;

function nextCounter(): number {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return counter;
}

export function newOperationID(): string {
  return `cutover_${processTag}_${nextCounter().toString(36)}`;
}

/** 32 hex characters, the shape the official SDK produces (an md5 hex digest). */
export function newClientMsgID(): string {
  return (
    processTag +
    (Date.now() % 0xffffffff).toString(16).padStart(8, "0") +
    nextCounter().toString(16).padStart(12, "0")
  );
}

// proto: util/datautil/string.go IsLegalUserID — unicode letters, digits and '_' only.
const LEGAL_USER_ID = /^[\p{L}\p{Nd}_]+$/u;

export function isLegalUserID(userID: string): boolean {
  return LEGAL_USER_ID.test(userID);
}

/** A fresh, legal userID such as `lt_m3k9x2_a1b2c3d4e5f6_7`; throws if the prefix itself is illegal. */
export function uniqueUserID(prefix: string): string {
  if (!isLegalUserID(prefix)) {
    throw new Error(`userID prefix "${prefix}" may contain only letters, digits and underscore`);
  }
  return `${prefix}_${Date.now().toString(36)}_${processTag}_${nextCounter().toString(36)}`;
}
