/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, inject, test } from "vitest";
import { compareFiles } from "../src/compare/compare-files.js";
import { comparedMetricUnits } from "../src/compare/compared-metrics.js";
import type { CaseResult } from "../src/conformance-runner/results.js";
import { summarizeResources } from "../src/metrics/proc-sampler.js";
import { judgeProcessDrift, messagesFromIntervals, processSeries } from "../src/metrics/process-drift.js";
import { buildComparison } from "../src/report/build-comparison.js";
import { renderHtml } from "../src/report/html.js";
import { runResultsSchema } from "../src/report/run-schema.js";
import { readRunReport, runView } from "../src/report/run-view.js";
import { comparisonView, conformanceView, loadView, type ReportView } from "../src/report/view-model.js";
import { writeRunReport } from "../src/report/write-run-report.js";
import { describeEnvironment } from "../src/run/environment.js";
import { parseGateRule } from "../src/stats/gate.js";
import { CHROMIUM_FLAGS, CHROMIUM_PATH, chromiumAvailable } from "../src/util/chromium.js";
import { packageRoot } from "../src/util/package-root.js";
import "../conformance/support/context.js";
import { syntheticRun } from "./fixtures/synthetic-results.js";

// The HTML report as a person sees it: opened in headless Chromium (Debian's, no download),
// every chart drawn, no console errors, and a screenshot kept for a human to look at.
const shots = path.join(packageRoot(), "results", "screenshots");

type Page = import("playwright-core").Page;

/** Opens a report (its HTML, or a file already written beside the files it links) and looks at it. */
async function openInChromium<T = undefined>(
  html: string | { file: string },
  name: string,
  inspect?: (page: Page) => Promise<T>,
): Promise<{ canvases: number; painted: number; errors: string[]; inspected?: T }> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(e.message));
    // Any request at all means the report is not self-contained.
    page.on(
      "request",
      (r) =>
        !r.url().startsWith("data:") && !r.url().startsWith("file:") && errors.push(`fetched ${r.url()}`),
    );
    mkdirSync(shots, { recursive: true });
    const file = typeof html === "string" ? path.join(shots, `${name}.html`) : html.file;
    if (typeof html === "string") writeFileSync(file, html);
    await page.goto(`file://${file}`);
    await page.waitForTimeout(300);
    // A drawn uPlot canvas has non-transparent pixels; count those that do.
    const { canvases, painted } = await page.evaluate(() => {
      const all = [...document.querySelectorAll("canvas")];
      const drawn = all.filter((c) => {
        const ctx = c.getContext("2d");
        if (!ctx || c.width === 0 || c.height === 0) return false;
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < data.length; i += 4 * 97) if (data[i] !== 0) return true;
        return false;
      });
      return { canvases: all.length, painted: drawn.length };
    });
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
    const inspected = inspect ? await inspect(page) : undefined;
    return { canvases, painted, errors, inspected };
  } finally {
    await browser.close();
  }
}

describe("the HTML report in a browser", { timeout: 60_000 }, () => {
  test("a comparison report draws both spectrum charts with no errors and fetches nothing", async (ctx) => {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`no Chromium at ${CHROMIUM_PATH} (cutover doctor --fix installs it)`);
      ctx.skip(`no Chromium at ${CHROMIUM_PATH}`);
    }
    const comparison = buildComparison({
      baseline: {
        label: "legacy",
        files: [],
        runs: Array.from({ length: 5 }, () => syntheticRun("legacy", 20)),
      },
      candidate: {
        label: "openim",
        files: [],
        runs: Array.from({ length: 5 }, () => syntheticRun("openim", 24)),
      },
      interleaved: true,
      gate: [],
    });
    const view: ReportView = comparisonView(comparison);
    const result = await openInChromium(renderHtml(view, ["comparison.json"]), "comparison-report");
    expect(result.errors).toEqual([]);
    expect(result.canvases).toBe(view.charts.length);
    expect(result.painted).toBe(view.charts.length);
    expect(view.charts.length).toBeGreaterThanOrEqual(2);
  });

  test("a soak's load report draws every process's memory and names the one that drifted", async (ctx) => {
    if (!chromiumAvailable()) {
      if (process.env.CI)
        throw new Error(`no Chromium at ${CHROMIUM_PATH} (cutover doctor --fix installs it)`);
      ctx.skip(`no Chromium at ${CHROMIUM_PATH}`);
    }
    const MB = 2 ** 20;
    // Two minutes at 50 msg/s: the MongoDB stand-in fills with messages, the gateway doubles.
    const samples = Array.from({ length: 120 }, (_, t) => {
      const rss: Record<string, number> = {
        mongo: 300 * MB + 40 * MB * (t / 120),
        "openim-rpc-msg": 40 * MB,
        gateway: 60 * MB + 60 * MB * (t / 120),
      };
      return {
        t,
        processes: Object.entries(rss).map(([name, rssBytes]) => ({
          name,
          rssBytes,
          cpuPercent: 4,
          alive: true,
        })),
        totalCpuPercent: 12,
        totalRssBytes: Object.values(rss).reduce((a, b) => a + b, 0),
        generator: { cpuPercent: 9, rssBytes: 120 * MB },
      };
    });
    const drift = judgeProcessDrift(
      processSeries(samples),
      messagesFromIntervals(
        Array.from({ length: 120 }, (_, i) => ({ t: i + 1, sent: 50, delivered: 50 })),
        0,
      ),
      { rssMaxRatio: 1.25, skipFirst: 5, minPoints: 60 },
    );
    const results = {
      ...syntheticRun("openim", 20),
      drift,
      resources: { intervalMs: 1000, samples, summary: summarizeResources(samples) },
      // A fault mid-soak is drawn across every time chart; the page must draw it without errors.
      faultEvents: [{ t: 60, what: "SIGKILL openim-msgtransfer" }],
    };
    const view = loadView(results);
    expect(view.charts.filter((c) => c.kind === "time").every((c) => c.marks?.length === 1)).toBe(true);
    expect(view.charts.map((c) => c.title)).toEqual(
      expect.arrayContaining([
        "Memory per process — drifted: gateway",
        "gateway: memory over the run (drift flagged)",
      ]),
    );
    const result = await openInChromium(renderHtml(view, ["results.json"]), "soak-drift-report");
    expect(result.errors).toEqual([]);
    expect(result.canvases).toBe(view.charts.length);
    expect(result.painted).toBe(view.charts.length);
  });

  test("a conformance report renders its tables with no errors", async (ctx) => {
    if (!chromiumAvailable()) ctx.skip(`no Chromium at ${CHROMIUM_PATH}`);
    const view = conformanceView({
      kind: "cutover-conformance",
      version: 1,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      target: { stack: inject("endpoints").stack, nginx: inject("endpoints").nginx, parts: [] },
      caveats: ["MongoDB is a stand-in"],
      suites: ["auth"],
      cases: [
        { suite: "auth", name: "a", fullName: "auth a", state: "passed", durationMs: 1 },
        {
          suite: "auth",
          name: "b",
          fullName: "auth b",
          state: "failed",
          durationMs: 1,
          error: "expected 401, got 200",
        },
      ],
      totals: { passed: 1, failed: 1, skipped: 0 },
      serverErrors: [],
    });
    const result = await openInChromium(renderHtml(view, ["conformance.json"]), "conformance-report");
    expect(result.errors).toEqual([]);
  });

  test("a whole run's index.html: the verdict first, every case listed and filterable, both stacks over time", async (ctx) => {
    if (!chromiumAvailable()) ctx.skip(`no Chromium at ${CHROMIUM_PATH}`);
    const { runFile, cases } = writeSyntheticRun(mkdtempSync(path.join(os.tmpdir(), "cutover-run-report-")));
    const run = runResultsSchema.parse(JSON.parse(readFileSync(runFile, "utf8")));
    const written = writeRunReport(runFile, run);
    expect(written.map((f) => path.basename(f))).toEqual(["index.html", "summary.md"]);
    const view = runView(readRunReport(runFile, run));
    const result = await openInChromium(
      { file: path.join(path.dirname(runFile), "index.html") },
      "run-index",
      async (page) => {
        const heading = await page.locator("h1").textContent();
        const caseRows = await page.locator("section:has(h2:text-matches('^Every case')) tbody tr").count();
        await page.selectOption("section:has(h2:text-matches('^Every case')) select", "failed");
        const failedShown = await page
          .locator("section:has(h2:text-matches('^Every case')) tbody tr:visible")
          .count();
        const links = await page.locator("section:has(h2:text('Files')) a").count();
        return { heading, caseRows, failedShown, links };
      },
    );
    expect(result.errors).toEqual([]);
    expect(result.inspected?.heading).toMatch(/cutover run\s+FAILED/);
    expect(result.inspected?.caseRows).toBe(cases.length);
    expect(result.inspected?.failedShown).toBe(cases.filter((x) => x.state === "failed").length);
    expect(result.inspected?.links).toBeGreaterThanOrEqual(12);
    expect(view.charts.map((c) => c.id)).toEqual(expect.arrayContaining(["run-e2e-time", "cmp-e2e"]));
    expect(result.painted).toBe(view.charts.length);
    const md = readFileSync(path.join(path.dirname(runFile), "summary.md"), "utf8");
    expect(md.split("\n")[0]).toBe("## cutover run — ❌ FAILED");
    expect(md).toContain("server:internal/rpc/msg/send.go");
  });
});

/** A run folder as `cutover run` writes it: run.json, conformance.json, compare/ with its runs. */
function writeSyntheticRun(dir: string): { runFile: string; cases: CaseResult[] } {
  const states = ["passed", "passed", "passed", "failed", "skipped"] as const;
  const cases: CaseResult[] = Array.from({ length: 60 }, (_, i) => {
    const state = states[i % states.length] ?? "passed";
    return {
      suite: i % 2 ? "messaging" : "auth",
      name: `case ${i}`,
      fullName: `${i % 2 ? "messaging" : "auth"} case ${i}`,
      state,
      durationMs: 10 + i,
      source: ["server:internal/rpc/msg/send.go SendMsg", "docs/openim-protocol.md §4"],
      ...(state === "failed" ? { error: "expected 1 delivery, got 2\n- 1\n+ 2" } : {}),
      ...(state === "skipped" ? { skipReason: "the target does not let cutover read its Redis" } : {}),
    };
  });
  const conformanceFile = path.join(dir, "conformance.json");
  writeFileSync(
    conformanceFile,
    JSON.stringify({
      kind: "cutover-conformance",
      version: 1,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      target: { stack: "local", nginx: "http://127.0.0.1:1", parts: [] },
      caveats: ["MongoDB is a stand-in"],
      suites: ["auth", "messaging"],
      cases,
      totals: {
        passed: cases.filter((x) => x.state === "passed").length,
        failed: cases.filter((x) => x.state === "failed").length,
        skipped: cases.filter((x) => x.state === "skipped").length,
      },
      serverErrors: [
        {
          process: "openim-api",
          line: "2026-12-07 10:00:00.000 ERROR [PID:1] openim-api token parse failed",
        },
      ],
    }),
  );
  const compareDir = path.join(dir, "compare");
  const runFiles = (driver: string, center: number) =>
    Array.from({ length: 5 }, (_, n) => {
      const f = path.join(compareDir, `${driver}-${n}`, "results.json");
      mkdirSync(path.dirname(f), { recursive: true });
      writeFileSync(f, JSON.stringify(syntheticRun(driver, center)));
      return f;
    });
  const compared = compareFiles({
    baselineFiles: runFiles("legacy", 8),
    candidateFiles: runFiles("openim", 57),
    interleaved: true,
    gate: [parseGateRule("e2e.p99 worse by >25%", comparedMetricUnits)],
    outDir: compareDir,
  });
  const runFile = path.join(dir, "run.json");
  const t = { passed: 36, failed: 12, skipped: 12 };
  writeFileSync(
    runFile,
    JSON.stringify({
      kind: "cutover-run",
      version: 1,
      status: "failed",
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      argv: ["cutover", "run"],
      cutoverVersion: "0.1.0",
      environment: describeEnvironment({ stack: "local", nginx: "http://127.0.0.1:1", parts: [] } as never),
      health: [{ name: "redis", ok: true, detail: "PONG" }],
      conformance: { file: conformanceFile, totals: t, serverErrors: 1 },
      comparison: {
        file: compared.file,
        reports: compared.reports,
        verdicts: {},
        gateFailed: compared.comparison.gate.some((g) => g.failed),
        note: compared.comparison.sensitivity.note,
      },
    }),
  );
  return { runFile, cases };
}
