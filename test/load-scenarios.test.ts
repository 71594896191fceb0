import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, inject, test } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { LoadSession } from "../src/load/engine.js";
import { normalizeModel, parseRamp } from "../src/load/model.js";
import { runLoad } from "../src/load/run-load.js";
import { loadScenario } from "../src/load/scenario.js";
import { resolveSettings } from "../src/load/settings.js";
import { parseLoadResults } from "../src/report/results-schema.js";
import { packageRoot } from "../src/util/package-root.js";
import { cliEnv, runCutover } from "./support/cli.js";

// Short versions of the other scenarios on the shared stack, each a few seconds: the shape of
// each run is checked exactly (counts, books), latency only loosely (2 shared cores).
const endpoints = inject("endpoints");
const runDir = inject("runDir");

test("login-storm: each operation logs in through the gateway, connects and leaves", async () => {
  const scenario = await loadScenario("login-storm");
  const { phase: r } = await LoadSession.once(
    {
      scenario,
      endpoints,
      driver: { name: "openim" },
      workers: 1,
      users: 6,
      topology: { kind: "solo" },
      connectAtSetup: false,
      maxInFlightPerUser: 1,
    },
    {
      model: normalizeModel({ kind: "constant-arrival-rate", rate: 4, duration: "2s" }),
      drainMs: 10_000,
    },
  );
  expect(r.counters.scheduled).toBe(8);
  expect(r.counters.logins + r.counters.droppedIterations).toBe(8);
  expect(r.counters.loginErrors).toBe(0);
  expect(r.counters.connects).toBe(r.counters.logins);
  expect(r.counters.disconnects).toBe(r.counters.connects);
  expect(r.histograms.get("login")?.totalCount).toBe(r.counters.logins);
}, 60_000);

test("connection-ramp: ramps to N idle connections, holds them, and they are all still counted at the end", async () => {
  const scenario = await loadScenario("connection-ramp");
  const { phase: r } = await LoadSession.once(
    {
      scenario,
      endpoints,
      driver: { name: "openim-direct" },
      workers: 1,
      users: 30,
      topology: { kind: "solo" },
      connectAtSetup: false,
      maxInFlightPerUser: 1,
      intervalMs: 500,
    },
    { model: parseRamp("30:0s,30:1s,0:0s,0:2s", 30), drainMs: 5000 },
  );
  expect(r.counters.connects).toBe(30);
  expect(r.counters.connectErrors).toBe(0);
  expect(Math.max(...r.intervals.map((i) => i.connected))).toBe(30);
  expect(r.intervals.at(-1)?.connected).toBe(30);
  expect(r.elapsedMs).toBeGreaterThanOrEqual(2900); // the hold is kept, not cut short
}, 60_000);

test("rest-send through autocannon lands in the same results file, with the http metric", () => {
  const out = mkdtempSync(path.join(os.tmpdir(), "cutover-rest-"));
  const env = cliEnv();
  const res = runCutover(
    ["load", "rest-send", "--run-dir", runDir, "--rate", "20", "--duration", "2s", "--out", out],
    { timeoutMs: 60_000, env },
  );
  expect(res.code, res.stderr + res.stdout).toBe(0);
  const results = parseLoadResults(JSON.parse(readFileSync(path.join(out, "results.json"), "utf8")));
  expect(results.http?.tool).toBe("autocannon");
  expect(results.counters?.httpRequests).toBeGreaterThanOrEqual(38);
  expect(results.counters?.httpErrors).toBe(0);
  expect(results.metrics?.http?.count).toBe(results.counters?.httpRequests);
  expect(readFileSync(path.join(out, "intervals.hlog"), "utf8")).toMatch(/^Tag=http,/m);
}, 90_000);

test("a team's own scenario outside the checkout: typed by `cutover/scenario`, run by the runLoad library call", async () => {
  // A project of the team's own, with cutover installed as a package (here: linked to this checkout).
  const project = mkdtempSync(path.join(os.tmpdir(), "cutover-own-scenario-"));
  mkdirSync(path.join(project, "node_modules"));
  symlinkSync(packageRoot(), path.join(project, "node_modules", "cutover"));
  writeFileSync(
    path.join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      files: ["typing-chat.ts"],
    }),
  );
  const file = path.join(project, "typing-chat.ts");
  writeFileSync(
    file,
    [
      'import type { ScenarioOptions, VirtualUser } from "cutover/scenario";',
      "export const options: ScenarioOptions = {",
      '  model: { kind: "constant-arrival-rate", rate: 4, duration: "2s" },',
      "  users: 4,",
      '  driver: "openim-direct",',
      "};",
      "export default async function (vu: VirtualUser): Promise<void> {",
      '  await vu.sendText(vu.peer(), "typing…");',
      "  await vu.sleep(50);",
      '  await vu.sendText(vu.peer(), "hello");',
      "}",
      "",
    ].join("\n"),
  );
  const tsc = spawnSync(
    process.execPath,
    [path.join(packageRoot(), "node_modules", "typescript", "bin", "tsc"), "-p", project],
    {
      encoding: "utf8",
    },
  );
  expect(tsc.stdout + tsc.stderr).toBe("");
  expect(tsc.status).toBe(0);

  const scenario = await loadScenario(file);
  const { config } = await loadConfig({ file: undefined, cwd: project });
  const { results, exitCode } = await runLoad({
    scenario,
    settings: resolveSettings(scenario.options, { workers: "0" }),
    stack: { config, runDir },
    outDir: path.join(project, "results"),
    warmup: 0,
    keep: true,
  });
  expect(exitCode).toBe(0);
  expect(results.scenario.name).toBe("typing-chat");
  expect(results.counters?.sent).toBe(16); // 8 operations × 2 sends
  expect(results.accounting).toMatchObject({ expected: 16, delivered: 16, lost: 0, balanced: true });
}, 90_000);
