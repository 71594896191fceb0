import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, inject, test } from "vitest";
import type { ConformanceResults } from "../src/conformance-runner/results.js";
import "../conformance/support/context.js";
import { cliEnv, externalTarget, runCutover } from "./support/cli.js";

// `--stack external` for real: the shared test stack, started separately, named only by URLs
// in a config file. The same suite through the external provider and through the local one
// must pass the same cases.

const endpoints = inject("endpoints");
const runDir = inject("runDir");
const work = mkdtempSync(path.join(os.tmpdir(), "cutover-external-"));

const env = cliEnv();

function cutover(...args: string[]) {
  return runCutover(args, { timeoutMs: 280_000, env });
}

function writeConfig(name: string, external: Record<string, unknown>): string {
  const file = path.join(work, name);
  writeFileSync(file, `${JSON.stringify({ stack: { kind: "external", external } }, null, 2)}\n`);
  return file;
}

/** Everything the shared stack offers, as a team would write it for its own deployment. */
const fullConfig = writeConfig("external.json", {
  label: "the shared test stack",
  ...externalTarget(endpoints, runDir),
});

const results = (file: string) => JSON.parse(readFileSync(file, "utf8")) as ConformanceResults;
const passed = (r: ConformanceResults) =>
  r.cases
    .filter((c) => c.state === "passed")
    .map((c) => c.fullName)
    .sort();

describe("--stack external against a separately started local stack", { timeout: 300_000 }, () => {
  test("conformance --stack external passes the same auth cases as --stack local", () => {
    const externalFile = path.join(work, "external-results.json");
    const localFile = path.join(work, "local-results.json");
    const external = cutover(
      "conformance",
      "--stack",
      "external",
      "--config",
      fullConfig,
      "--suite",
      "auth",
      "--json",
      externalFile,
    );
    expect(external.code, external.stdout + external.stderr).toBe(0);
    const local = cutover("conformance", "--run-dir", runDir, "--suite", "auth", "--json", localFile);
    expect(local.code, local.stdout + local.stderr).toBe(0);

    const ext = results(externalFile);
    const loc = results(localFile);
    expect(ext.target.stack).toBe("external");
    expect(loc.target.stack).toBe("local");
    expect(ext.totals.failed).toBe(0);
    expect(ext.totals.passed).toBeGreaterThan(0);
    expect(passed(ext)).toEqual(passed(loc));
    expect(ext.totals).toEqual(loc.totals);
    // Honest reporting: the external run says it did not start the stack; the local one names its stand-in.
    expect(ext.caveats.join("\n")).toMatch(/not started by cutover/);
    expect(loc.caveats.join("\n")).toMatch(/MongoDB stand-in/);
  });

  test("up, status and down treat the deployment as not cutover's to start or stop", () => {
    const up = cutover("up", "--config", fullConfig);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain(`external stack answers at ${endpoints.nginx}`);
    expect(up.stdout).toContain("not started by cutover");

    const status = cutover("status", "--config", fullConfig, "--json");
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const checks = (
      JSON.parse(status.stdout) as { checks: Array<{ name: string; ok: boolean; skipped?: boolean }> }
    ).checks;
    expect(checks.filter((c) => !c.ok || c.skipped)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        "openim api",
        "redis",
        "gateway login via nginx",
        "websocket via nginx",
        "webhooks reach the gateway",
        "websocket bypasses the gateway",
        "openim rest not exposed",
      ]),
    );

    const down = cutover("down", "--config", fullConfig);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/^nothing to stop: the external stack .* is not started by cutover/);
  });

  test("a deployment offering only its edge: what it lacks is skipped with the reason, not failed", () => {
    const edgeOnly = writeConfig("edge-only.json", { nginx: endpoints.nginx });
    const status = cutover("status", "--config", edgeOnly);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toMatch(/- openim api\s+skipped: admin calls are not allowed against this target/);
    expect(status.stdout).toMatch(/- redis\s+skipped: the target's Redis is not offered/);
  });

  test("a target that does not answer: one line, exit 3; a config without nginx: one line, exit 2", () => {
    const dead = writeConfig("dead.json", { nginx: "http://127.0.0.1:1" });
    const run = cutover("conformance", "--config", dead, "--suite", "auth");
    expect(run.code).toBe(3);
    expect(run.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^cutover: the external stack at http:\/\/127\.0\.0\.1:1 does not answer: /),
    ]);
    const missing = cutover("up", "--stack", "external", "--config", writeConfig("empty.json", {}));
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^cutover: --stack external needs stack\.external\.nginx/);
  });
});
