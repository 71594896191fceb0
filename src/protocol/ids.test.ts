import { describe, expect, it } from "vitest";
import {
  conversationIDOf,
  groupConversationID,
  isLegalUserID,
  newClientMsgID,
  newOperationID,
  singleConversationID,
  uniqueUserID,
} from "./ids.js";

describe("conversation IDs", () => {
  it("sorts the two users of a single chat", () => {
    expect(singleConversationID("bob", "alice")).toBe("si_alice_bob");
    expect(singleConversationID("alice", "bob")).toBe("si_alice_bob");
    expect(singleConversationID("B", "a")).toBe("si_B_a"); // byte order: uppercase first
  });

  it("sorts by UTF-8 bytes like Go, not UTF-16 units", () => {
    // U+FF5E (3 UTF-8 bytes, EF..) sorts after U+1F600 (F0..) in UTF-16 but before it in UTF-8.
    expect(singleConversationID("\u{1F600}", "\uFF5E")).toBe("si_\uFF5E_\u{1F600}");
  });

  it("derives the conversation of a message", () => {
    expect(groupConversationID("g1")).toBe("sg_g1");
    expect(conversationIDOf({ sessionType: 1, sendID: "z", recvID: "a", groupID: "" })).toBe("si_a_z");
    expect(conversationIDOf({ sessionType: 3, sendID: "z", recvID: "", groupID: "g9" })).toBe("sg_g9");
    expect(conversationIDOf({ sessionType: 7, sendID: "z", recvID: "", groupID: "" })).toBeUndefined();
  });
});

describe("generated ids", () => {
  it("operationIDs and clientMsgIDs are unique", () => {
    const ops = new Set(Array.from({ length: 10_000 }, newOperationID));
    const msgs = new Set(Array.from({ length: 10_000 }, newClientMsgID));
    expect(ops.size).toBe(10_000);
    expect(msgs.size).toBe(10_000);
  });

  it("clientMsgIDs look like the SDK's (32 hex chars)", () => {
    expect(newClientMsgID()).toMatch(/^[0-9a-f]{32}$/);
  });

  it("uniqueUserID is legal, unique and keeps its prefix", () => {
    const a = uniqueUserID("lt");
    const b = uniqueUserID("lt");
    expect(a).not.toBe(b);
    expect(a.startsWith("lt_")).toBe(true);
    expect(isLegalUserID(a)).toBe(true);
    expect(() => uniqueUserID("bad-prefix")).toThrow(/letters, digits and underscore/);
  });

  it("isLegalUserID follows the server (letters, digits, underscore)", () => {
    expect(isLegalUserID("user_1")).toBe(true);
    expect(isLegalUserID("用户1")).toBe(true);
    expect(isLegalUserID("a-b")).toBe(false);
    expect(isLegalUserID("a:b")).toBe(false);
    expect(isLegalUserID("")).toBe(false);
  });
});
