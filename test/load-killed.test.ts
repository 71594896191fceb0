import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { HistogramLogReader } from "hdr-histogram-js";
import { expect, inject, test } from "vitest";
import { readLoadResults } from "../src/report/read-results.js";
import { packageRoot } from "../src/util/package-root.js";
import { cliEnv, runCutover } from "./support/cli.js";

// kill -9 of `cutover load` mid-run, as a user's CI runner or the OOM killer would do it: the
// interval log written so far must rebuild a report that says it is partial and what it lacks.
const runDir = inject("runDir");

/** Waits (bounded) until the log holds `n` counter lines: n intervals measured and written down. */
async function waitForIntervals(file: string, n: number, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  let seen = 0;
  while (Date.now() < deadline) {
    seen = existsSync(file) ? (readFileSync(file, "utf8").match(/^#\[Counters /gm) ?? []).length : 0;
    if (seen >= n) return seen;
    await new Promise((r) => setTimeout(r, 200));
  }
  return seen;
}

test("a load killed with SIGKILL mid-run leaves a log that `report --from-log` rebuilds into a partial report", async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), "cutover-killed-"));
  const log = path.join(out, "intervals.hlog");
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli/main.ts",
      "load",
      "direct-chat",
      "--run-dir",
      runDir,
      "--users",
      "6",
      "--rate",
      "10",
      "--duration",
      "60s",
      "--interval",
      "500ms",
      "--workers",
      "1",
      "--out",
      out,
    ],
    { cwd: packageRoot(), env: cliEnv(), stdio: "ignore" },
  );
  try {
    expect(await waitForIntervals(log, 4, 75_000)).toBeGreaterThanOrEqual(4);
  } finally {
    child.kill("SIGKILL");
  }
  await new Promise((r) => child.once("exit", r));
  // What the run itself left: a results.json that never got past "running".
  expect(readLoadResults(path.join(out, "results.json")).status).toBe("running");

  const res = runCutover(["report", "--from-log", log], { timeoutMs: 60_000 });
  expect(res.code, res.stderr + res.stdout).toBe(0);
  const rebuilt = readLoadResults(path.join(out, "results.partial.json"));
  expect(rebuilt.status).toBe("interrupted");
  expect(rebuilt.run?.interrupted).toBe(true);
  expect(rebuilt.partial?.missing.join("\n")).toMatch(/threshold verdicts/);

  // Every histogram the log holds is in the rebuilt metrics, count for count.
  const reader = new HistogramLogReader(readFileSync(log, "utf8"));
  const logged = new Map<string, number>();
  const ends = new Set<number>();
  for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) {
    logged.set(h.tag ?? "", (logged.get(h.tag ?? "") ?? 0) + h.totalCount);
    ends.add(h.endTimeStampMsec);
  }
  expect(logged.get("ack")).toBeGreaterThan(0);
  for (const [tag, count] of logged) expect(rebuilt.metrics?.[tag]?.count, tag).toBe(count);
  expect(rebuilt.intervals?.length).toBeGreaterThanOrEqual(ends.size);
  // The books the log held: the interval counts add up to the totals, and nothing measured is lost from them.
  const sum = (k: "sent" | "acked" | "delivered") => (rebuilt.intervals ?? []).reduce((a, i) => a + i[k], 0);
  expect(sum("sent")).toBe(rebuilt.counters?.sent);
  expect(sum("acked")).toBe(rebuilt.counters?.acked);
  expect(sum("delivered")).toBe(rebuilt.counters?.delivered);
  // A kill between an interval's histograms and its counter line leaves at most that interval uncounted.
  expect(rebuilt.counters?.acked).toBeLessThanOrEqual(logged.get("ack") ?? 0);

  const html = readFileSync(path.join(out, "report.html"), "utf8");
  const md = readFileSync(path.join(out, "report.md"), "utf8");
  for (const text of [html, md]) {
    expect(text).toContain("partial (interrupted; rebuilt from the interval log)");
    expect(text).toContain("Partial run: rebuilt from the interval log");
  }
  expect(md).toMatch(/\| sent \| acked \|/);
}, 150_000);
