import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { metricsTargetsDir, writeMetricsTarget } from "./metrics-target-file.js";

describe("a local stack's Prometheus finds a running load through file_sd", () => {
  test("only a run dir with prometheus/targets/ has a targets folder", () => {
    const runDir = mkdtempSync(path.join(os.tmpdir(), "cutover-sd-"));
    expect(metricsTargetsDir(runDir)).toBeUndefined();
    mkdirSync(path.join(runDir, "prometheus", "targets"), { recursive: true });
    expect(metricsTargetsDir(runDir)).toBe(path.join(runDir, "prometheus", "targets"));
  });

  test("the file names the scrape address under job cutover while it serves, and is gone after", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "cutover-sd-"));
    const target = writeMetricsTarget(dir, 45678, 4242);
    expect(target.file).toBe(path.join(dir, "cutover-4242.json"));
    expect(JSON.parse(readFileSync(target.file, "utf8"))).toEqual([
      { targets: ["127.0.0.1:45678"], labels: { job: "cutover" } },
    ]);
    expect(readdirSync(dir)).toEqual(["cutover-4242.json"]);
    target.remove();
    target.remove();
    expect(existsSync(target.file)).toBe(false);
  });

  test("a killed load's file is cleared by the next one; a running load's is left alone", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "cutover-sd-"));
    const gone = spawnSync(process.execPath, ["-e", "process.pid"]).pid as number;
    writeFileSync(path.join(dir, `cutover-${gone}.json`), "[]");
    writeFileSync(path.join(dir, `cutover-${process.ppid}.json`), "[]");
    const target = writeMetricsTarget(dir, 45678, 4243);
    expect(readdirSync(dir).sort()).toEqual([`cutover-${process.ppid}.json`, "cutover-4243.json"].sort());
    target.remove();
  });
});
