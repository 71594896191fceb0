import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { metricResults } from "../load/results.js";
import { counterValues, evaluateThresholds, parseThreshold } from "../load/thresholds.js";
import { emptyCounters } from "../metrics/counters.js";
import { HdrIntervalLog } from "../metrics/hdr-log.js";
import { newHistogram, recordUs } from "../metrics/histogram.js";
import type { LoadResults } from "../report/results-schema.js";
import { loadView } from "../report/view-model.js";
import { seededRandom } from "../util/seeded-random.js";
import { findShardFiles, mergeShards } from "./merge-results.js";

const START = Date.parse("2026-12-08T00:00:10.000Z");
const THRESHOLDS = ["sent >= 250", "e2e.p99 < 1000ms"];

/** One shard's run as `cutover load --shard i/3` writes it, from known raw samples (µs) in two 1 s intervals. */
function writeShard(dir: string, index: number, samples: number[][], o: { users?: string } = {}): void {
  mkdirSync(dir, { recursive: true });
  const log = new HdrIntervalLog(path.join(dir, "intervals.hlog"), START - 4000 - index * 700);
  // A warm-up phase before the measured one, as auto warm-up leaves it: merge must not count it.
  const warm = newHistogram();
  recordUs(warm, 999_999);
  log.write("e2e", warm, 0.5, 1.5);
  const total = newHistogram();
  const phaseOffset = 4 + index * 0.7;
  samples.forEach((interval, k) => {
    const h = newHistogram();
    for (const us of interval) {
      recordUs(h, us);
      recordUs(total, us);
    }
    log.write("e2e", h, phaseOffset + k, phaseOffset + k + 1);
  });
  log.close();
  const sent = samples.flat().length;
  const counters = { ...emptyCounters(), scheduled: sent, iterations: sent, sent, acked: sent };
  Object.assign(counters, { expectedDeliveries: sent, delivered: sent - index, lost: index });
  const metrics = metricResults(new Map([["e2e", total]]));
  const thresholds = evaluateThresholds(
    THRESHOLDS.map((t) => parseThreshold(t)),
    metrics,
    counterValues(counters, 0, 2),
  );
  const identity = { cutover: "0.1.0", scenario: "direct-chat", shards: "3", users: o.users ?? "60" };
  const results: LoadResults = {
    kind: "cutover-load",
    schemaVersion: 1,
    status: thresholds.every((t) => t.ok) ? "passed" : "failed",
    startedAt: new Date(START - 5000).toISOString(),
    finishedAt: new Date(START + 3000).toISOString(),
    scenario: { name: "direct-chat" },
    target: {
      stack: "local",
      driver: "openim",
      endpoints: { nginx: "", wsURL: "", openimApi: "", openimWs: "" },
    },
    parameters: {
      model: {
        kind: "open",
        source: "constant-arrival-rate",
        stages: [{ from: 150, to: 150, durationMs: 2000 }],
      },
      users: 60,
      topology: { kind: "pairs" },
      connect: "setup",
      workers: 1,
      maxInFlightPerUser: 8,
      drainMs: 1000,
      intervalMs: 1000,
      faults: [],
      argv: [],
    },
    environment: {
      stack: "local",
      parts: [],
      host: { cpus: 2, cpuModel: "x", memoryGiB: 24, platform: "linux", node: "v20" },
      caveats: [],
    },
    setup: { ms: 1000 + index, users: 20, groups: 0, errors: {} },
    run: {
      startedAt: new Date(START).toISOString(),
      elapsedMs: 3000,
      scheduleMs: 2000,
      expectedOperations: 100,
      targetRate: 50,
      achievedRate: sent / 2,
      interrupted: false,
    },
    counters,
    errors: {},
    metrics,
    intervals: samples.map((interval, k) => ({
      t: k + 1,
      sent: interval.length,
      acked: interval.length,
      delivered: interval.length,
      errors: 0,
      dropped: 0,
      rate: interval.length,
      ackP50: 0,
      ackP99: 0,
      e2eP50: 0,
      e2eP99: 0,
      inFlight: 0,
      connected: 20,
    })),
    thresholds,
    generator: { cpuSeconds: 1, rssMaxBytes: 100 + index, cpuMsPerThousandMessages: 1 },
    shard: { index, count: 3, identity, startAt: new Date(START).toISOString() },
  };
  writeFileSync(path.join(dir, "results.json"), JSON.stringify(results));
}

/** The p-th percentile of raw samples, as HdrHistogram defines it (the value at or below which p% lie). */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function shardSamples(seed: number, scale: number): number[][] {
  const random = seededRandom(seed);
  return [0, 1].map(() => Array.from({ length: 50 }, () => Math.round(scale * (1 + 20 * random() ** 4))));
}

describe("cutover merge", () => {
  it("adds the shards up exactly: books summed, percentiles of all raw samples, intervals on one grid, thresholds judged again", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "merge-"));
    // Shards with different latency: a p99 of p99s or a mean of p50s would be visibly wrong.
    const raw = [shardSamples(1, 2_000), shardSamples(2, 9_000), shardSamples(3, 30_000)];
    for (const [i, s] of raw.entries()) writeShard(path.join(root, `shard-${i}`), i, s);
    const out = path.join(root, "merged");
    mkdirSync(out);
    const { results } = mergeShards(findShardFiles([root]), { outDir: out, argv: ["merge"] });

    const all = raw.flat(2);
    expect(results.counters?.sent).toBe(300);
    expect(results.accounting).toEqual({ expected: 300, delivered: 297, lost: 3, balanced: true });
    expect(results.shards?.map((s) => [s.index, s.sent, s.lost])).toEqual([
      [0, 100, 0],
      [1, 100, 1],
      [2, 100, 2],
    ]);
    for (const p of [50, 99] as const) {
      const exact = percentile(all, p) / 1000;
      const merged = results.metrics?.e2e?.[`p${p}`] ?? 0;
      // HDR at 3 significant digits: within 0.1% of the exact value.
      expect(Math.abs(merged - exact) / exact).toBeLessThan(0.001);
    }
    // Interval 2 from the three logs added (each written at a different offset into its own log).
    const second = raw.flatMap((s) => s[1] ?? []);
    expect(results.intervals?.[1]?.sent).toBe(150);
    expect(Math.abs((results.intervals?.[1]?.e2eP99 ?? 0) - percentile(second, 99) / 1000)).toBeLessThan(
      (percentile(second, 99) / 1000) * 0.001,
    );
    // Each shard sent 100 (its "sent >= 250" failed); together they sent 300.
    expect(results.thresholds?.find((t) => t.metric === "sent")?.ok).toBe(true);
    expect(results.status).toBe("passed");
    expect(results.shard).toBeUndefined();
    expect(results.parameters.workers).toBe(3);
    // The report shows each shard's books beside the totals.
    const shardsTable = loadView(results).tables.find((t) => t.title === "Shards");
    expect(shardsTable?.rows.map((row) => row.map((cell) => cell.text)[6])).toEqual(["0", "1", "2"]);
  });

  it("refuses shards that are not one run, one line each", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "merge-bad-"));
    const one = [[1000], [2000]];
    writeShard(path.join(root, "a/shard-0"), 0, one);
    writeShard(path.join(root, "a/shard-1"), 1, one);
    const merge = (...dirs: string[]) =>
      mergeShards(findShardFiles(dirs.map((d) => path.join(root, d))), { outDir: root, argv: [] });
    expect(() => merge("a")).toThrow(/shard 2 of 3 missing \(found 0, 1\)/);
    writeShard(path.join(root, "b/shard-1"), 1, one);
    expect(() => merge("a", "b")).toThrow(
      /shard 1\/3 appears twice: .*a\/shard-1\/results.json and .*b\/shard-1/,
    );
    writeShard(path.join(root, "c/shard-2"), 2, one, { users: "80" });
    expect(() => merge("a", "c")).toThrow(/not one run: .* differs from .* in users: 60 vs 80/);
  });
});
