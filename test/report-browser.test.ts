/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, inject, test } from "vitest";
import { buildComparison } from "../src/report/build-comparison.js";
import { renderHtml } from "../src/report/html.js";
import { comparisonView, conformanceView, type ReportView } from "../src/report/view-model.js";
import { CHROMIUM_FLAGS, CHROMIUM_PATH, chromiumAvailable } from "../src/util/chromium.js";
import { packageRoot } from "../src/util/package-root.js";
import "../conformance/support/context.js";
import { syntheticRun } from "./fixtures/synthetic-results.js";

// The HTML report as a person sees it: opened in headless Chromium (Debian's, no download),
// every chart drawn, no console errors, and a screenshot kept for a human to look at.
const shots = path.join(packageRoot(), "results", "screenshots");

async function openInChromium(
  html: string,
  name: string,
): Promise<{ canvases: number; painted: number; errors: string[] }> {
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
    const file = path.join(shots, `${name}.html`);
    mkdirSync(shots, { recursive: true });
    writeFileSync(file, html);
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
    return { canvases, painted, errors };
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
});
