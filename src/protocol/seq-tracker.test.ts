import { describe, expect, it } from "vitest";
import { chunkRanges, SeqTracker } from "./seq-tracker.js";

describe("SeqTracker", () => {
  it("reports each (conversation, seq) once, in any order", () => {
    const t = new SeqTracker();
    expect(t.markSeen("c", 2)).toBe(true);
    expect(t.markSeen("c", 1)).toBe(true);
    expect(t.markSeen("c", 2)).toBe(false);
    expect(t.markSeen("c", 1)).toBe(false);
    expect(t.markSeen("d", 1)).toBe(true);
    expect(t.markSeen("c", 0)).toBe(true); // unsequenced messages are never deduped
    expect(t.markSeen("c", 0)).toBe(true);
    expect(t.lastSeq("c")).toBe(2);
  });

  it("stays bounded per conversation while deduping recent seqs exactly", () => {
    const t = new SeqTracker({ window: 32 });
    for (let s = 2; s <= 1000; s += 2) t.markSeen("c", s); // gaps everywhere
    expect(t.markSeen("c", 1000)).toBe(false);
    expect(t.markSeen("c", 999)).toBe(true);
    expect(t.markSeen("c", 3)).toBe(false); // aged out: counted as seen
  });

  it("without a baseline, catches up only conversations seen, from their first seen seq", () => {
    const t = new SeqTracker();
    t.markSeen("c", 5);
    t.markSeen("c", 7);
    expect(t.catchUpRanges({ c: 9, other: 4 })).toEqual([{ conversationID: "c", begin: 6, end: 9 }]);
  });

  it("with a baseline, skips older history and includes conversations started later", () => {
    const t = new SeqTracker();
    t.setBaseline({ old: 40 });
    t.markSeen("old", 41);
    t.markSeen("fresh", 1);
    expect(t.catchUpRanges({ old: 43, fresh: 1, brandNew: 2 })).toEqual([
      { conversationID: "old", begin: 42, end: 43 },
      { conversationID: "brandNew", begin: 1, end: 2 },
    ]);
  });

  it("caps the range per conversation", () => {
    const t = new SeqTracker();
    t.setBaseline({});
    expect(t.catchUpRanges({ c: 5000 }, 100)).toEqual([{ conversationID: "c", begin: 4901, end: 5000 }]);
  });
});

describe("chunkRanges", () => {
  it("splits into bounded ranges and requests", () => {
    const out = chunkRanges(
      [
        { conversationID: "a", begin: 1, end: 250 },
        { conversationID: "b", begin: 3, end: 3 },
      ],
      100,
      2,
    );
    expect(out).toEqual([
      [
        { conversationID: "a", begin: 1, end: 100 },
        { conversationID: "a", begin: 101, end: 200 },
      ],
      [
        { conversationID: "a", begin: 201, end: 250 },
        { conversationID: "b", begin: 3, end: 3 },
      ],
    ]);
  });
});
