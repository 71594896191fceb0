import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { collectServerErrors, snapshotLogs } from "./server-logs.js";

describe("the server's own view of a run", () => {
  test("only ERROR lines logged after the snapshot are collected, named by process and by the case running then", () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), "cutover-logs-"));
    mkdirSync(path.join(runDir, "logs", "openim"), { recursive: true });
    const openimLog = path.join(runDir, "logs", "openim", "openim-service-log.2026-11-25");
    const mongoLog = path.join(runDir, "logs", "mongo.log");
    writeFileSync(
      openimLog,
      "2026-11-25 10:00:00.000\t\u001b[31mERROR\u001b[0m\t[PID:1]  \topenim-rpc-msg  \told failure\n",
    );
    writeFileSync(mongoLog, "mongo-standin listening\n");
    const snapshot = snapshotLogs(runDir);
    const at = new Date("2026-11-25T10:00:05.000").getTime();
    appendFileSync(
      openimLog,
      "2026-11-25 10:00:05.000\t\u001b[31mERROR\u001b[0m\t[PID:1]  \topenim-rpc-msg  \tnew failure\n",
    );
    appendFileSync(
      openimLog,
      "2026-11-25 10:00:05.100\t\u001b[33mWARN\u001b[0m\t[PID:1]  \topenim-rpc-msg  \tonly a warning\n",
    );
    appendFileSync(mongoLog, "java.lang.IllegalStateException: Unexpected missing value\n");
    const errors = collectServerErrors(runDir, snapshot, [
      { suite: "s", name: "a", fullName: "s a", state: "passed", durationMs: 1000, startedAt: at - 500 },
      { suite: "s", name: "b", fullName: "s b", state: "passed", durationMs: 1000, startedAt: at - 5000 },
    ]);
    expect(errors).toHaveLength(2);
    const openim = errors.find((e) => e.process === "openim-rpc-msg");
    expect(openim).toMatchObject({ duringCase: "s a" });
    expect(openim!.line).toContain("new failure");
    expect(errors.find((e) => e.process === "mongo")?.line).toContain("Unexpected missing value");
    expect(errors.some((e) => e.line.includes("old failure") || e.line.includes("warning"))).toBe(false);
  });
});
