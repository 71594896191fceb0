import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { isPortFree } from "../src/stack/local/ports.js";
import { isAlive } from "../src/stack/local/processes.js";
import { type RunState, runStateSchema } from "../src/stack/local/state.js";
import { packageRoot } from "../src/util/package-root.js";
import { type CliRun, cliEnv, runCutover } from "./support/cli.js";

// The CLI as a user runs it, from source, on a run dir of its own (a second stack beside the shared one).
const runDir = mkdtempSync(path.join(os.tmpdir(), "cutover-cli-"));

const env = cliEnv();

function cutover(...args: string[]): CliRun {
  return runCutover([...args, "--run-dir", runDir], { timeoutMs: 300_000, env });
}

const state = (): RunState =>
  runStateSchema.parse(JSON.parse(readFileSync(path.join(runDir, "state.json"), "utf8")));

afterAll(() => {
  cutover("down");
});

describe("cutover up / status / down", { timeout: 300_000 }, () => {
  test("up --json prints exactly one JSON object with the endpoints", () => {
    const up = cutover("up", "--json");
    expect(up.code, up.stderr).toBe(0);
    const lines = up.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const endpoints = JSON.parse(lines[0]!) as Record<string, string>;
    expect(endpoints.nginx).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.openimApi).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.openimWs).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.redis).toMatch(/^redis:\/\/:.+@127\.0\.0\.1:\d+$/);
    expect(endpoints.gateway).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test("status checks every component and exits 0 when all are healthy", () => {
    const status = cutover("status");
    expect(status.code, status.stdout + status.stderr).toBe(0);
    for (const name of [
      "redis",
      "etcd",
      "kafka",
      "nginx",
      "openim api",
      "websocket via nginx",
      "process openim-rpc-msg",
    ]) {
      expect(status.stdout).toMatch(new RegExp(`✓ ${name}\\s`));
    }
  });

  test("a second up on a live run dir says so and changes nothing", () => {
    const before = state().processes.map((p) => p.pid);
    const again = cutover("up");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already up");
    expect(state().processes.map((p) => p.pid)).toEqual(before);
  });

  test("status names a dead OpenIM process and exits non-zero", () => {
    const victim = state().processes.find((p) => p.name === "openim-rpc-msg");
    expect(victim).toBeDefined();
    process.kill(victim!.pid, "SIGKILL");
    const status = cutover("status");
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/✗ process openim-rpc-msg/);
    expect(status.stderr).toMatch(/unhealthy: .*process openim-rpc-msg/);
  });

  test("a killed up leaves its survivors recorded (pid and start time), for the next up to stop", async () => {
    // The stack above goes; an up is started and SIGKILLed while it is still starting processes.
    expect(cutover("down").code).toBe(0);
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "up", "--run-dir", runDir], {
      cwd: packageRoot(),
      env,
      stdio: "ignore",
    });
    const started = (): number => {
      try {
        return state().processes.filter(isAlive).length;
      } catch {
        return 0; // not written yet, or being replaced
      }
    };
    try {
      for (let i = 0; i < 300 && started() < 3; i++) await new Promise((r) => setTimeout(r, 200));
    } finally {
      child.kill("SIGKILL");
    }
    await new Promise((r) => child.once("exit", r));
    expect(state().phase).toBe("starting");
    expect(state().processes.filter(isAlive).length).toBeGreaterThanOrEqual(3);
  });

  // Runs on what the killed up left (the test above): its survivors are stopped, then a fresh start.
  test("up on a crashed run dir cleans it up and starts a healthy stack", () => {
    const survivors = state().processes.filter(isAlive);
    const up = cutover("up");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/cleaned up a stale run .*stopped \d+ leftover processes/);
    for (const old of survivors) expect(isAlive(old)).toBe(false);
    expect(cutover("status").code).toBe(0);
  });

  test("down stops every process it started and frees every port", async () => {
    const { processes, ports } = state();
    const down = cutover("down");
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(new RegExp(`stopped ${processes.length} processes`));
    for (const p of processes) expect(isAlive(p), p.name).toBe(false);
    // Every port number in the plan, however nested (the RPC ports by service, a ws/rpc pair per message gateway).
    const numbers = (v: unknown): number[] =>
      typeof v === "number" ? [v] : v && typeof v === "object" ? Object.values(v).flatMap(numbers) : [];
    const flat = numbers(ports);
    for (const port of flat) expect(await isPortFree(port, "0.0.0.0"), `port ${port}`).toBe(true);
    expect(cutover("status").code).toBe(1);
  });
});
