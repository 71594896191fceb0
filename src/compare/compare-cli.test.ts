import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { syntheticRun } from "../../test/fixtures/synthetic-results.js";
import type { LoadResults } from "../report/results-schema.js";
import { packageRoot } from "../util/package-root.js";

// `cutover compare` and `cutover report` as a CI job calls them, on results files written here.
const dir = mkdtempSync(path.join(os.tmpdir(), "cutover-compare-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cutover(...args: string[]): { code: number; out: string } {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: packageRoot(),
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: run.status ?? -1, out: `${run.stdout}${run.stderr}` };
}

function write(name: string, results: LoadResults | Record<string, unknown>): string {
  const file = path.join(dir, name, "results.json");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(results));
  return file;
}

const healthy = Array.from({ length: 5 }, (_, i) => write(`legacy-${i}`, syntheticRun("legacy", 20)));
const losing = Array.from({ length: 5 }, (_, i) =>
  write(`openim-${i}`, syntheticRun("openim", 20, { lost: 50 })),
);

describe("a release gated on cutover compare", { timeout: 60_000 }, () => {
  test("0 → 5% loss in every run: 'loss worse' crosses the gate (exit 99), and the comparison re-renders", () => {
    const out = path.join(dir, "cmp-loss");
    const cmp = cutover(
      "compare",
      "--baseline",
      ...healthy,
      "--candidate",
      ...losing,
      "--fail-if",
      "loss worse",
      "--out",
      out,
    );
    expect(cmp.out).toMatch(/loss\s+0% →\s+5%\s+\+5pp worse \(p=0\.008\)/);
    expect(cmp.out).toContain("✗ loss: worse (+5pp, p=0.008)");
    expect(cmp.code).toBe(99);

    const report = cutover(
      "report",
      path.join(out, "comparison.json"),
      "--html",
      path.join(out, "again.html"),
    );
    expect(report.out).not.toMatch(/cutover:/);
    expect(report.code).toBe(0);
    expect(readFileSync(path.join(out, "again.html"), "utf8")).toContain("+5pp");
  });

  test("a gate with the wrong unit or an unknown metric is refused before anything is read", () => {
    const wrongUnit = cutover("compare", ...healthy, ...losing, "--fail-if", "loss worse by >1ms");
    expect(wrongUnit.out).toMatch(/ms applies to latencies, not ratio/);
    expect(wrongUnit.code).toBe(2);
    const unknown = cutover("compare", ...healthy, ...losing, "--fail-if", "lost worse");
    expect(unknown.out).toMatch(/no metric lost \(have: e2e\.p50/);
    expect(unknown.code).toBe(2);
  });

  test("an impossible value (e2e.p99 = -120) is refused, naming the file and field", () => {
    const bad = syntheticRun("openim", 20);
    const e2e = bad.metrics?.e2e;
    if (e2e) e2e.p99 = -120;
    const file = write("negative", bad);
    const run = cutover("compare", "--baseline", ...healthy, "--candidate", file);
    expect(run.out).toContain(`${file}: metrics.e2e.p99:`);
    expect(run.out.trim().split("\n")).toHaveLength(1);
    expect(run.code).toBe(2);
  });

  test("a corrupt histogram is refused, naming the file and field", () => {
    const bad = syntheticRun("openim", 20);
    const ack = bad.metrics?.ack;
    if (ack) ack.histogram.data = "bm90IGEgaGlzdG9ncmFt";
    const file = write("corrupt", bad);
    const run = cutover("report", file, "--html", path.join(dir, "corrupt.html"));
    expect(run.out).toContain(`${file}: metrics.ack.histogram.data: not an HdrHistogram`);
    expect(run.code).toBe(2);
  });
});
