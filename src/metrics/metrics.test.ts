import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { HistogramLogReader } from "hdr-histogram-js";
import { describe, expect, test } from "vitest";
import { processStartTime } from "../stack/local/processes.js";
import { nowUs, perfToUs } from "./clock.js";
import { detectDrift } from "./drift.js";
import { HdrIntervalLog } from "./hdr-log.js";
import { addEncoded, encodeHistogram, newHistogram, recordUs, summarize } from "./histogram.js";
import { ProcSampler, summarizeResources } from "./proc-sampler.js";

describe("metrics", () => {
  test("performance.now() readings convert onto the shared clock", () => {
    const a = nowUs();
    const b = perfToUs(performance.now());
    const c = nowUs();
    expect(b).toBeGreaterThanOrEqual(a - 5);
    expect(b).toBeLessThanOrEqual(c + 5);
  });

  test("histograms merge through their encoded form and summarise in ms", () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 1; i <= 1000; i++) recordUs(i % 2 ? a : b, i * 1000);
    const merged = newHistogram();
    addEncoded(merged, encodeHistogram(a));
    addEncoded(merged, encodeHistogram(b));
    const s = summarize(merged);
    expect(s.count).toBe(1000);
    expect(s.p50).toBeCloseTo(500, -1);
    expect(s.p99).toBeCloseTo(990, -1);
    expect(s.max).toBeCloseTo(1000, -1);
  });

  test("the interval log is HdrHistogram's format: HistogramLogReader reads it back, tags and all", () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "hlog-")), "intervals.hlog");
    const log = new HdrIntervalLog(file, Date.now());
    for (let i = 0; i < 3; i++) {
      const h = newHistogram();
      for (let v = 1; v <= 100; v++) recordUs(h, v * 100 * (i + 1));
      log.write("e2e", h, i, i + 1);
    }
    log.close();
    const reader = new HistogramLogReader(readFileSync(file, "utf8"));
    let n = 0;
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) {
      expect(h.tag).toBe("e2e");
      expect(h.totalCount).toBe(100);
      n++;
    }
    expect(n).toBe(3);
  });

  test("drift: a latency that climbs is flagged, a flat noisy one is not", () => {
    const climbing = Array.from({ length: 60 }, (_, i): [number, number] => [i * 60, 20 + i]);
    const flat = Array.from({ length: 60 }, (_, i): [number, number] => [i * 60, 20 + (i % 3)]);
    expect(detectDrift("e2e", climbing, { maxRatio: 1.5 }).flagged).toBe(true);
    expect(detectDrift("e2e", flat, { maxRatio: 1.5 }).flagged).toBe(false);
    expect(detectDrift("e2e", climbing.slice(0, 5), { maxRatio: 1.5 }).reason).toBe("too few intervals");
  });

  test("the /proc sampler reads CPU and RSS of a process and its children", async () => {
    const me = { name: "self", pid: process.pid, startTime: processStartTime(process.pid) ?? "" };
    const sampler = new ProcSampler([me, { name: "gone", pid: 999_999_999, startTime: "1" }], Date.now());
    sampler.sample();
    const end = Date.now() + 150;
    while (Date.now() < end) Math.sqrt(Math.random()); // some CPU to see
    const s = sampler.sample();
    const self = s.processes.find((p) => p.name === "self");
    expect(self?.alive).toBe(true);
    expect(self?.rssBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(self?.cpuPercent).toBeGreaterThan(0);
    expect(s.processes.find((p) => p.name === "gone")?.alive).toBe(false);
    expect(summarizeResources([s]).map((r) => r.name)).toEqual(["self", "gone"]);
  });
});
