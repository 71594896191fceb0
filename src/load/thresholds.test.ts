import { describe, expect, test } from "vitest";
import { emptyCounters } from "../metrics/counters.js";
import { collectThresholds, counterValues, evaluateThresholds, parseThreshold } from "./thresholds.js";

describe("thresholds", () => {
  test("read as k6 writes them, with units", () => {
    expect(parseThreshold("e2e.p99<200")).toMatchObject({ metric: "e2e", stat: "p99", op: "<", value: 200 });
    expect(parseThreshold("< 1s", "ack.p99.9")).toMatchObject({ metric: "ack", stat: "p99.9", value: 1000 });
    expect(parseThreshold("lost=0")).toMatchObject({ metric: "lost", op: "==", value: 0 });
    expect(() => parseThreshold("e2e.p99 about 200")).toThrow(/expected e.g./);
    expect(collectThresholds({ lost: "== 0" }, ["e2e.p99<200,ack.p50<10"])).toHaveLength(3);
  });

  test("a latency threshold with no samples fails rather than passes", () => {
    const c = counterValues(emptyCounters(), 0, 1);
    const out = evaluateThresholds([parseThreshold("e2e.p99<200"), parseThreshold("lost==0")], {}, c);
    expect(out.map((o) => o.ok)).toEqual([false, true]);
    expect(out[0]?.actual).toBeNull();
  });
});
