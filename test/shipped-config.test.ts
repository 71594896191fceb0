import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ConformanceResults } from "../src/conformance-runner/results.js";
import { type CliRun, runCutover } from "./support/cli.js";

// OpenIM as it ships (only addresses, ports and credentials changed): what a team's own
// deployment looks like before the gateway's webhooks are wired in. The suites must find that out
// from the target itself and skip what it lacks, with the reason, never fail.

const work = mkdtempSync(path.join(os.tmpdir(), "cutover-shipped-"));
const config = path.join(work, "cutover.config.json");
writeFileSync(
  config,
  JSON.stringify({
    stack: { runDir: path.join(work, "run"), local: { openimConfig: "shipped", legacy: false } },
  }),
);
const cutover = (...args: string[]): CliRun =>
  runCutover([...args, "--config", config], { timeoutMs: 300_000 });

let results: ConformanceResults;
let run: CliRun;

beforeAll(() => {
  const up = cutover("up");
  expect(up.code, up.stderr).toBe(0);
  const out = path.join(work, "conformance.json");
  // The suites whose cases depend on the target's settings, and presence for the debug-level log line.
  run = cutover(
    "conformance",
    ...["admin", "security-input", "websocket-sessions", "presence"].flatMap((s) => ["--suite", s]),
    "--json",
    out,
  );
  results = JSON.parse(readFileSync(out, "utf8")) as ConformanceResults;
}, 300_000);

afterAll(() => {
  cutover("down");
});

describe("the local stack with OpenIM's shipped config", () => {
  test("the suites skip the moderation cases with the probed reason and fail nothing", () => {
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(results.totals.failed).toBe(0);
    const moderation = results.cases.filter(
      (c) => c.state === "skipped" && /moderation webhooks/.test(c.skipReason ?? ""),
    );
    // admin: bans, banned words single and group, before/after hooks, removing a word; security: a denied message takes no seq.
    expect(moderation).toHaveLength(6);
    expect(results.cases.filter((c) => c.state === "passed").length).toBeGreaterThan(50);
  });

  test("every report says what was probed and what was assumed", () => {
    const finding = (setting: string) => results.profile?.find((f) => f.setting === setting);
    expect(finding("moderationWebhooks")).toMatchObject({ value: "false", how: "probed" });
    expect(finding("multiLoginPolicy")).toMatchObject({ value: "1", how: "probed" });
    expect(finding("logLevel")).toMatchObject({ value: "6", how: "probed" });
    expect(finding("maxMessageSize")).toMatchObject({ how: "assumed" });
    expect(results.caveats.join("\n")).toMatch(
      /profile moderationWebhooks = false \(probed\): .*not seen by the gateway/,
    );
  });

  test("at OpenIM's own debug log level the scan still reports what only debug level shows", () => {
    expect(results.serverErrorGroups?.map((g) => g.message)).toContain("keysAndValues length is not even");
  });

  test("status says the webhooks do not reach the gateway, and exits non-zero", () => {
    const status = cutover("status");
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/✗ webhooks reach the gateway\s+.*before-send hook not seen/);
    expect(status.stdout).toMatch(/✓ websocket bypasses the gateway\s/);
    expect(status.stdout).toMatch(/✓ openim rest not exposed\s/);
    expect(status.stderr).toMatch(/unhealthy: webhooks reach the gateway/);
  });
});
