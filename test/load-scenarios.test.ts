import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, inject, test } from "vitest";
import { LoadSession } from "../src/load/engine.js";
import { normalizeModel, parseRamp } from "../src/load/model.js";
import { loadScenario } from "../src/load/scenario.js";
import { parseLoadResults } from "../src/report/results-schema.js";
import { cliEnv } from "./support/cli.js";

// Short versions of the other scenarios on the shared stack, each a few seconds: the shape of
// each run is checked exactly (counts, books), latency only loosely (2 shared cores).
const endpoints = inject("endpoints");
const runDir = inject("runDir");

test("login-storm: each operation logs in through the gateway, connects and leaves", async () => {
  const scenario = await loadScenario("login-storm");
  const session = await LoadSession.open({
    scenario,
    endpoints,
    driver: { name: "openim" },
    workers: 1,
    users: 6,
    topology: { kind: "solo" },
    connectAtSetup: false,
    maxInFlightPerUser: 1,
  });
  try {
    const r = await session.runPhase({
      model: normalizeModel({ kind: "constant-arrival-rate", rate: 4, duration: "2s" }),
      drainMs: 10_000,
    });
    expect(r.counters.scheduled).toBe(8);
    expect(r.counters.logins + r.counters.droppedIterations).toBe(8);
    expect(r.counters.loginErrors).toBe(0);
    expect(r.counters.connects).toBe(r.counters.logins);
    expect(r.counters.disconnects).toBe(r.counters.connects);
    expect(r.histograms.get("login")?.totalCount).toBe(r.counters.logins);
  } finally {
    await session.close();
  }
}, 60_000);

test("connection-ramp: ramps to N idle connections, holds them, and they are all still counted at the end", async () => {
  const scenario = await loadScenario("connection-ramp");
  const session = await LoadSession.open({
    scenario,
    endpoints,
    driver: { name: "openim-direct" },
    workers: 1,
    users: 30,
    topology: { kind: "solo" },
    connectAtSetup: false,
    maxInFlightPerUser: 1,
    intervalMs: 500,
  });
  try {
    const r = await session.runPhase({ model: parseRamp("30:0s,30:1s,0:0s,0:2s", 30), drainMs: 5000 });
    expect(r.counters.connects).toBe(30);
    expect(r.counters.connectErrors).toBe(0);
    expect(Math.max(...r.intervals.map((i) => i.connected))).toBe(30);
    expect(r.intervals.at(-1)?.connected).toBe(30);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(2900); // the hold is kept, not cut short
  } finally {
    await session.close();
  }
}, 60_000);

test("rest-send through autocannon lands in the same results file, with the http metric", () => {
  const out = mkdtempSync(path.join(os.tmpdir(), "cutover-rest-"));
  const env = cliEnv();
  const res = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli/main.ts",
      "load",
      "rest-send",
      "--run-dir",
      runDir,
      "--rate",
      "20",
      "--duration",
      "2s",
      "--out",
      out,
    ],
    { encoding: "utf8", timeout: 60_000, env },
  );
  expect(res.status, res.stderr + res.stdout).toBe(0);
  const results = parseLoadResults(JSON.parse(readFileSync(path.join(out, "results.json"), "utf8")));
  expect(results.http?.tool).toBe("autocannon");
  expect(results.counters?.httpRequests).toBeGreaterThanOrEqual(38);
  expect(results.counters?.httpErrors).toBe(0);
  expect(results.metrics?.http?.count).toBe(results.counters?.httpRequests);
  expect(readFileSync(path.join(out, "intervals.hlog"), "utf8")).toMatch(/^Tag=http,/m);
}, 90_000);
