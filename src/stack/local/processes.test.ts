import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { isAlive, startProcess, stopProcess } from "./processes.js";
import { liveness } from "./state.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "cutover-proc-"));

describe("processes the stack starts", () => {
  test("a started process is alive, logs to its file, and is gone after stop", async () => {
    const log = path.join(dir, "echo.log");
    const record = startProcess({
      name: "sleeper",
      command: "sh",
      args: ["-c", "echo started; exec sleep 30"],
      log,
    });
    expect(isAlive(record)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(readFileSync(log, "utf8")).toContain("started");
    expect(await stopProcess(record)).toBe("stopped");
    expect(isAlive(record)).toBe(false);
    expect(await stopProcess(record)).toBe("gone");
  });

  test("a process that ignores SIGTERM is killed after the grace period", async () => {
    const record = startProcess({
      name: "stubborn",
      command: "sh",
      args: ["-c", "trap '' TERM; while true; do sleep 0.1; done"],
      log: path.join(dir, "stubborn.log"),
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await stopProcess(record, 300)).toBe("stopped");
    expect(isAlive(record)).toBe(false);
  });

  test("a recorded pid whose start time differs (a reused pid) is not ours", () => {
    expect(isAlive({ pid: process.pid, startTime: "1" })).toBe(false);
  });

  test("a run whose processes all died is stale; one fully running is live", async () => {
    const record = startProcess({ name: "s", command: "sleep", args: ["30"], log: path.join(dir, "s.log") });
    const base = { startedAt: "", cutoverPid: 1, ports: {}, processes: [record] };
    expect(liveness({ ...base, phase: "up" }).kind).toBe("live");
    expect(liveness({ ...base, phase: "starting" }).kind).toBe("stale");
    await stopProcess(record);
    expect(liveness({ ...base, phase: "up" })).toMatchObject({ kind: "stale", alive: [] });
    expect(liveness(undefined).kind).toBe("none");
  });
});
