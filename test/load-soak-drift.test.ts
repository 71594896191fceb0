import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, inject, test } from "vitest";
import { parseConfig } from "../src/config/load.js";
import { runLoad } from "../src/load/run-load.js";
import { loadScenario } from "../src/load/scenario.js";
import { resolveSettings } from "../src/load/settings.js";
import { GENERATOR_NAME } from "../src/metrics/process-drift.js";

// The soak scenario, a few seconds of it on the shared stack: too short to judge a trend, long
// enough to show that every process of the stack and the generator get a drift entry of their own.
const runDir = inject("runDir");

test("a short soak on the local stack gives every process its own drift entry, stores apart from services", async () => {
  const scenario = await loadScenario("soak");
  const { results } = await runLoad({
    scenario,
    settings: resolveSettings(scenario.options, { users: "12", rate: "10", duration: "4s", workers: "0" }),
    stack: { config: parseConfig({}), runDir },
    outDir: mkdtempSync(path.join(os.tmpdir(), "cutover-soak-")),
    warmup: 0,
    keep: true,
  });
  const drift = results.drift ?? [];
  const roleOf = (name: string) => drift.find((d) => d.process === name)?.role;
  for (const store of ["redis", "kafka", "mongo", "etcd"]) expect(roleOf(store), store).toBe("store");
  for (const service of ["openim-msgtransfer", "openim-rpc-msg", "gateway", "nginx"])
    expect(roleOf(service), service).toBe("service");
  expect(drift.filter((d) => d.process === GENERATOR_NAME).map((d) => d.measure)).toEqual([
    "rss",
    "cpu-per-message",
  ]);
  // Every sampled process of the stack is judged (or said to be too short to judge), none left out.
  const sampled = new Set(results.resources?.summary.map((s) => s.name));
  expect(sampled.size).toBeGreaterThan(10);
  for (const name of sampled)
    expect(
      drift.some((d) => d.process === name),
      name,
    ).toBe(true);
  expect(drift.some((d) => d.series === "SUT RSS (bytes)")).toBe(false);
  // The per-process RSS series the report charts is in the results, generator included.
  expect(results.resources?.samples.at(-1)?.generator?.rssBytes).toBeGreaterThan(0);
}, 90_000);
