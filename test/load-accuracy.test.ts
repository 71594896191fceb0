import { expect, test } from "vitest";
import { latencyAccuracyBare } from "../bench/accuracy.js";

// What the generator reports must move by what is injected: 5 ms of Toxiproxy latency (built from
// the Go module proxy into the cache on first use) between the engine and a chat server that does
// no work of its own, so nothing but the injected latency changes between the runs.
test("5 ms of injected latency raises the measured ack and e2e p50 by 5 ms (± 1 ms on a shared machine)", async () => {
  const r = await latencyAccuracyBare(2, { rate: 200, durationMs: 2000 });
  expect(r.e2eP50RiseMs).toBeGreaterThan(4);
  expect(r.e2eP50RiseMs).toBeLessThan(6);
  expect(r.ackP50RiseMs).toBeGreaterThan(4);
  expect(r.ackP50RiseMs).toBeLessThan(6);
}, 180_000);
