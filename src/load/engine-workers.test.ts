import path from "node:path";
import { expect, test } from "vitest";
import type { StackEndpoints } from "../stack/endpoints.js";
import { LoadSession } from "./engine.js";
import { normalizeModel } from "./model.js";
import { loadScenario } from "./scenario.js";

// Worker threads run the TypeScript source here (--import tsx), each with its own driver
// built from a module path; their histograms and books are merged in this thread.
test("two worker threads share the rate and their books merge: delivered + lost = sent × recipients", async () => {
  const scenario = await loadScenario("direct-chat");
  const session = await LoadSession.open({
    scenario,
    endpoints: { stack: "local" } as unknown as StackEndpoints,
    driver: {
      name: "fake",
      module: path.resolve("src/load/fake-driver.ts"),
      options: { latencyMs: 1, loseEvery: 10 },
    },
    workers: 2,
    users: 8,
    topology: { kind: "pairs" },
    connectAtSetup: true,
    maxInFlightPerUser: 16,
    intervalMs: 250,
  });
  try {
    expect(session.workers).toBe(2);
    const r = await session.runPhase({
      model: normalizeModel({ kind: "constant-arrival-rate", rate: 100, duration: "1s" }),
      drainMs: 300,
    });
    expect(r.counters.scheduled).toBe(100);
    expect(r.counters.sent).toBe(100);
    expect(r.counters.delivered + r.counters.lost).toBe(r.counters.expectedDeliveries);
    // Each worker's stack loses every 10th of its own deliveries.
    expect(r.counters.lost).toBeGreaterThanOrEqual(9);
    expect(r.counters.lost).toBeLessThanOrEqual(10);
    expect(r.histograms.get("e2e")?.totalCount).toBe(r.counters.delivered);
    expect(r.intervals.length).toBeGreaterThanOrEqual(4);
  } finally {
    await session.close();
  }
}, 30_000);
