import { describe, expect, test } from "vitest";
import { emptyCounters } from "../metrics/counters.js";
import type { ResourceSample } from "../metrics/proc-sampler.js";
import type { PhaseResult, SetupResult } from "./engine.js";
import { normalizeModel } from "./model.js";
import { driftVerdicts, phaseFigures } from "./results.js";
import { parseThreshold } from "./thresholds.js";

const MB = 2 ** 20;
const RUN_START = Date.parse("2026-01-01T00:00:00Z");

/** A 30-minute soak at 50 msg/s whose measured phase starts 10 s into the run (setup before it). */
function phase(): PhaseResult {
  return {
    model: normalizeModel({ kind: "constant-arrival-rate", rate: 50, duration: "30m" }),
    startedAt: new Date(RUN_START + 10_000),
    elapsedMs: 1_800_000,
    scheduleMs: 1_800_000,
    expectedOperations: 90_000,
    counters: {
      ...emptyCounters(),
      sent: 90_000,
      acked: 90_000,
      expectedDeliveries: 90_000,
      delivered: 90_000,
    },
    errors: {},
    histograms: new Map(),
    intervals: Array.from({ length: 1800 }, (_, i) => ({
      t: i + 1,
      sent: 50,
      acked: 50,
      delivered: 50,
      errors: 0,
      dropped: 0,
      rate: 50,
      ackP50: 5,
      ackP99: 20,
      e2eP50: 30,
      e2eP99: 100 + (i % 7),
      inFlight: 2,
      connected: 60,
    })),
    interrupted: false,
    generator: { cpuSeconds: 100, rssMaxBytes: 150 * MB },
  };
}

const setup: SetupResult = {
  users: 60,
  groups: 10,
  workers: 1,
  ms: 1000,
  counters: emptyCounters(),
  errors: {},
  histograms: new Map(),
};

/** The stores fill as the messages arrive; the gateway grows as `gatewayGrowthMB` says. */
function samples(gatewayGrowthMB: number): ResourceSample[] {
  return Array.from({ length: 1811 }, (_, t) => {
    const f = Math.max(0, (t - 10) / 1800);
    const rss: Record<string, number> = {
      mongo: 400 * MB + 344 * MB * f,
      redis: 20 * MB + 93 * MB * f,
      kafka: 600 * MB + 79 * MB * f,
      "openim-rpc-msg": 40 * MB + 13 * MB * f,
      gateway: 60 * MB + gatewayGrowthMB * MB * f,
    };
    return {
      t,
      processes: Object.entries(rss).map(([name, rssBytes]) => ({
        name,
        rssBytes,
        cpuPercent: 3,
        alive: true,
      })),
      totalCpuPercent: 15,
      totalRssBytes: Object.values(rss).reduce((a, b) => a + b, 0),
      generator: { cpuPercent: 8, rssBytes: 130 * MB },
    };
  });
}

const soakDrift = { e2eP99MaxRatio: 1.5, rssMaxRatio: 1.25, skipFirst: 30 };

describe("soak verdicts: drift == 0 fails on a service's drift, not on a data store holding data", () => {
  test("the issue's soak (the SUT's RSS ×1.34, all of it in the stores) now passes drift == 0", () => {
    const drift = driftVerdicts(phase(), { samples: samples(5), startedAtMs: RUN_START }, soakDrift);
    const total = samples(5);
    expect((total.at(-1)?.totalRssBytes ?? 0) / (total[30]?.totalRssBytes ?? 1)).toBeGreaterThan(1.25);
    const figures = phaseFigures({ phase: phase(), setup, thresholds: [parseThreshold("drift==0")], drift });
    expect(figures.thresholds?.[0]?.ok).toBe(true);
    expect(drift.map((d) => d.series)).not.toContain("SUT RSS (bytes)");
    const mongo = figures.drift?.find((d) => "process" in d && d.process === "mongo");
    expect(mongo && "summary" in mongo ? mongo.summary : "").toMatch(/holding 8\d,\d{3} messages/);
  });

  test("the gateway doubling fails drift == 0, and the verdict names it", () => {
    const drift = driftVerdicts(phase(), { samples: samples(60), startedAtMs: RUN_START }, soakDrift);
    const figures = phaseFigures({ phase: phase(), setup, thresholds: [parseThreshold("drift==0")], drift });
    expect(figures.thresholds?.[0]?.ok).toBe(false);
    expect(drift.filter((d) => d.flagged).map((d) => d.reason)).toEqual([
      expect.stringMatching(/^gateway RSS rose ×/),
    ]);
  });
});
