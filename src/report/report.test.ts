import { describe, expect, test } from "vitest";
import { syntheticRun } from "../../test/fixtures/synthetic-results.js";
import { parseGateRule } from "../stats/gate.js";
import { buildComparison } from "./build-comparison.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import { comparisonView, loadView } from "./view-model.js";

describe("reports from results files", () => {
  test("the HTML report is self-contained: uPlot inlined, the spectrum and time charts present, nothing fetched", () => {
    const html = renderHtml(loadView(syntheticRun("openim", 20)), ["results.json"]);
    expect(html).toContain("uPlot");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(html).toContain('"kind":"spectrum"');
    expect(html).toContain('"id":"latency-time"');
    expect(html).toContain("the load generator shares this machine");
  });

  test("a fault is drawn on every time chart where it struck, and listed with its instant", () => {
    const run = {
      ...syntheticRun("openim", 20),
      faultEvents: [
        { t: 4.2, what: "SIGKILL openim-msgtransfer" },
        { t: 6.3, what: "openim-msgtransfer started again (pid 42)" },
      ],
    };
    const view = loadView(run);
    const timeCharts = view.charts.filter((ch) => ch.kind === "time");
    expect(timeCharts.length).toBeGreaterThan(0);
    for (const chart of timeCharts) expect(chart.marks?.map((m) => m.t)).toEqual([4.2, 6.3]);
    expect(view.charts.find((ch) => ch.kind === "spectrum")?.marks).toBeUndefined();
    expect(renderMarkdown(view)).toMatch(/\| 4\.2 +\| SIGKILL openim-msgtransfer +\|/);
    expect(renderHtml(view, ["results.json"])).toContain("markLines(c.marks)");
  });

  test("the Markdown summary has the latency table and the accounting", () => {
    const md = renderMarkdown(loadView(syntheticRun("openim", 20)));
    expect(md).toMatch(/### Latency \(ms\)/);
    expect(md).toContain("the books balance");
  });

  test("a comparison finds a 10% e2e slowdown, fails a 5% gate, and plots both sides on one axis", () => {
    const base = Array.from({ length: 6 }, () => syntheticRun("legacy", 20));
    const cand = Array.from({ length: 6 }, () => syntheticRun("openim", 22));
    const cmp = buildComparison({
      baseline: { label: "legacy", files: [], runs: base },
      candidate: { label: "openim", files: [], runs: cand },
      interleaved: true,
      gate: [parseGateRule("e2e.p99 worse by >5%"), parseGateRule("e2e.p99 worse by >50%")],
    });
    const p99 = cmp.metrics.find((m) => m.metric === "e2e.p99")!;
    expect(p99.verdict).toBe("worse");
    expect(cmp.gate.map((g) => g.failed)).toEqual([true, false]);
    expect(cmp.sensitivity.canReachAlpha).toBe(true);
    const html = renderHtml(comparisonView(cmp), ["comparison.json"]);
    expect(html).toContain('"id":"cmp-e2e"');
    expect(html).toContain('"label":"legacy"');
  });
});
