import { describe, expect, it } from "vitest";
import { runOpenLoop } from "../load/scheduler.js";
import { formUnits, shardUnits } from "../load/topology.js";
import { nowUs } from "../metrics/clock.js";
import { parseShard, resolveShard, shardOperations } from "./shard.js";

describe("shards", () => {
  it("reads i/N from the flag or from an Indexed Job's environment, and says what is wrong", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: "3", JOB_COMPLETIONS: "4" })).toEqual({
      index: 3,
      count: 4,
    });
    expect(resolveShard(undefined, {})).toEqual({ index: 0, count: 1 });
    expect(() => parseShard("4/4")).toThrow(/--shard 4\/4: the index runs from 0 to 3/);
    expect(() => parseShard("1-4")).toThrow(/expected i\/N/);
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: "1" })).toThrow(/JOB_COMPLETIONS=\(unset\)/);
  });

  it("gives each shard whole pairs and groups, and all shards together every user once", () => {
    const units = formUnits(40, { kind: "groups", size: 5 });
    const parts = [0, 1, 2].map((index) => shardUnits(units, { index, count: 3 }));
    expect(parts.map((p) => p.length)).toEqual([3, 3, 2]);
    for (const part of parts) {
      // Renumbered from 0 within the shard: it registers only its own users.
      expect(part.flatMap((u) => u.members)).toEqual([...Array(part.length * 5).keys()]);
      expect(part.map((u) => u.group)).toEqual([...Array(part.length).keys()]);
      for (const u of part) expect(u.members).toHaveLength(5);
    }
  });

  it("interleaves the shards' schedules into exactly the one intended schedule", async () => {
    const stages = [{ from: 2000, to: 6000, durationMs: 100 }];
    const run = async (segment?: { index: number; count: number }) => {
      const times: number[] = [];
      const t0Us = nowUs();
      await runOpenLoop({
        stages,
        t0Us,
        dispatch: (us) => times.push(us - t0Us),
        stopped: () => false,
        ...(segment ? { segment } : {}),
      });
      return times;
    };
    const whole = await run();
    const parts = await Promise.all([0, 1, 2, 3].map((index) => run({ index, count: 4 })));
    expect(parts.map((p) => p.length)).toEqual(
      [0, 1, 2, 3].map((index) => shardOperations(400, { index, count: 4 })),
    );
    expect(parts.flat().sort((a, b) => a - b)).toEqual(whole);
    // Phase-offset: shard i's k-th operation is the schedule's (4k + i)-th.
    expect(parts[1]?.[3]).toBe(whole[13]);
  });
});
