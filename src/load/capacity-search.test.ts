import { expect, test } from "vitest";
import type { StackEndpoints } from "../stack/endpoints.js";
import { findCapacity } from "./capacity-search.js";
import { LoadSession } from "./engine.js";
import { FakeChatStack } from "./fake-driver.js";
import { collectThresholds } from "./thresholds.js";

test("the capacity search finds the rate where a single-server stack's queue starts to grow", async () => {
  // 5 ms per send, one at a time: 200/s is the most it can serve; past that the queue (and ack latency) grows without bound.
  const fake = new FakeChatStack({ serviceTimeMs: 5 });
  const session = await LoadSession.open({
    scenario: {
      name: "capacity",
      options: { model: { kind: "constant-arrival-rate", rate: 1, duration: 1 }, users: 20 },
      fn: async (vu) => {
        await vu.sendText(vu.peer());
      },
    },
    endpoints: {} as StackEndpoints,
    driver: { name: "fake" },
    driverInstance: () => fake.driver(),
    users: 20,
    topology: { kind: "pairs" },
    connectAtSetup: true,
    maxInFlightPerUser: 1000,
    intervalMs: 250,
  });
  try {
    const result = await findCapacity(session, {
      startRate: 60,
      maxRate: 2000,
      stepDurationMs: 1000,
      drainMs: 2000,
      factor: 1.5,
      refineSteps: 2,
      // 250 ms: far under what a step past the knee queues up (303/s: ~100 sends × 5 ms = 500 ms
      // by the step's end), far over an event-loop stall on a loaded 2-core CI machine.
      slo: collectThresholds(undefined, ["ack.p99<250ms,lost=0"]),
      stopped: () => false,
    });
    expect(result.limitedBy).toBe("slo");
    // The true limit is 200/s; the search's steps (60, 90, 135, 202, … then bisection) land near it.
    expect(result.highestRateHeld).toBeGreaterThanOrEqual(90);
    expect(result.highestRateHeld).toBeLessThanOrEqual(260);
    const broke = result.steps.filter((s) => !s.held);
    expect(broke.length).toBeGreaterThan(0);
    expect(Math.min(...broke.map((s) => s.rate))).toBeGreaterThan(result.highestRateHeld ?? 0);
  } finally {
    await session.close();
  }
}, 60_000);
