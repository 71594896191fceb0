import { describe, expect, test } from "vitest";
import { kafkaClusterId } from "./kafka.js";

describe("the KRaft cluster id", () => {
  test("never starts with '-', which the storage tool would take for an option: such a draw is drawn again", () => {
    // 0xF8 makes the first base64url character '-' (index 62).
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x41)];
    const id = kafkaClusterId(() => draws.shift() ?? Buffer.alloc(16, 0x42));
    expect(Buffer.alloc(16, 0xf8).toString("base64url").startsWith("-")).toBe(true);
    expect(id).toBe(Buffer.alloc(16, 0x41).toString("base64url").slice(0, 22));
    expect(id).toHaveLength(22);
  });
});
