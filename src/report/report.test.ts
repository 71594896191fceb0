import { describe, expect, test } from "vitest";
import { encodeHistogram, newHistogram, recordUs } from "../metrics/histogram.js";
import { parseGateRule } from "../stats/gate.js";
import { normal, seededRandom } from "../stats/random.js";
import { buildComparison } from "./build-comparison.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import { type LoadResults, loadResultsSchema } from "./results-schema.js";
import { comparisonView, loadView } from "./view-model.js";

const random = seededRandom(11);

/** A schema-valid load result whose e2e latencies centre on `centerMs`. */
function syntheticRun(driver: string, centerMs: number): LoadResults {
  const h = newHistogram();
  for (let i = 0; i < 2000; i++) recordUs(h, centerMs * 1000 * (1 + 0.2 * Math.abs(normal(random))));
  const summary = (q: number) => centerMs * (1 + 0.2 * q);
  const metric = {
    description: "e2e",
    phase: "run" as const,
    unit: "ms" as const,
    count: 2000,
    min: centerMs,
    mean: summary(0.8),
    stdev: 1,
    p50: summary(0.67) * (1 + 0.02 * normal(random)),
    p90: summary(1.6),
    p95: summary(2),
    p99: summary(2.6) * (1 + 0.02 * normal(random)),
    p99_9: summary(3.3),
    max: summary(4),
    histogram: {
      encoding: "hdr-compressed-base64" as const,
      unit: "us" as const,
      significantDigits: 3,
      data: encodeHistogram(h),
    },
  };
  return loadResultsSchema.parse({
    kind: "cutover-load",
    schemaVersion: 1,
    status: "passed",
    startedAt: new Date().toISOString(),
    scenario: { name: "direct-chat" },
    target: {
      stack: "local",
      driver,
      endpoints: { nginx: "http://x", wsURL: "ws://x", openimApi: "http://x", openimWs: "ws://x" },
    },
    parameters: {
      model: {
        kind: "open",
        source: "constant-arrival-rate",
        stages: [{ from: 100, to: 100, durationMs: 10_000 }],
      },
      users: 10,
      topology: { kind: "pairs" },
      connect: "setup",
      workers: 1,
      maxInFlightPerUser: 64,
      drainMs: 2000,
      intervalMs: 1000,
      argv: [],
    },
    environment: {
      stack: "local",
      parts: [],
      host: { cpus: 2, cpuModel: "x", memoryGiB: 24, platform: "linux", node: "v20" },
      caveats: ["the load generator shares this machine"],
    },
    run: {
      startedAt: new Date().toISOString(),
      elapsedMs: 10_000,
      scheduleMs: 10_000,
      expectedOperations: 1000,
      targetRate: 100,
      achievedRate: 100,
      interrupted: false,
    },
    accounting: { expected: 1000, delivered: 1000, lost: 0, balanced: true },
    metrics: { e2e: metric, ack: { ...metric, description: "ack" } },
    intervals: [
      {
        t: 1,
        sent: 100,
        acked: 100,
        delivered: 100,
        errors: 0,
        dropped: 0,
        rate: 100,
        ackP50: 1,
        ackP99: 2,
        e2eP50: 3,
        e2eP99: 4,
        inFlight: 0,
        connected: 10,
      },
      {
        t: 2,
        sent: 100,
        acked: 100,
        delivered: 100,
        errors: 0,
        dropped: 0,
        rate: 100,
        ackP50: 1,
        ackP99: 2,
        e2eP50: 3,
        e2eP99: 5,
        inFlight: 0,
        connected: 10,
      },
    ],
  });
}

describe("reports from results files", () => {
  test("the HTML report is self-contained: uPlot inlined, the spectrum and time charts present, nothing fetched", () => {
    const html = renderHtml(loadView(syntheticRun("openim", 20)), ["results.json"]);
    expect(html).toContain("uPlot");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(html).toContain('"kind":"spectrum"');
    expect(html).toContain('"id":"latency-time"');
    expect(html).toContain("the load generator shares this machine");
  });

  test("the Markdown summary has the latency table and the accounting", () => {
    const md = renderMarkdown(loadView(syntheticRun("openim", 20)));
    expect(md).toMatch(/### Latency \(ms\)/);
    expect(md).toContain("the books balance");
  });

  test("a comparison finds a 10% e2e slowdown, fails a 5% gate, and plots both sides on one axis", () => {
    const base = Array.from({ length: 6 }, () => syntheticRun("legacy", 20));
    const cand = Array.from({ length: 6 }, () => syntheticRun("openim", 22));
    const cmp = buildComparison({
      baseline: { label: "legacy", files: [], runs: base },
      candidate: { label: "openim", files: [], runs: cand },
      interleaved: true,
      gate: [parseGateRule("e2e.p99 worse by >5%"), parseGateRule("e2e.p99 worse by >50%")],
    });
    const p99 = cmp.metrics.find((m) => m.metric === "e2e.p99")!;
    expect(p99.verdict).toBe("worse");
    expect(cmp.gate.map((g) => g.failed)).toEqual([true, false]);
    expect(cmp.sensitivity.canReachAlpha).toBe(true);
    const html = renderHtml(comparisonView(cmp), ["comparison.json"]);
    expect(html).toContain('"id":"cmp-e2e"');
    expect(html).toContain('"label":"legacy"');
  });
});
