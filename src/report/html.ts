import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import Handlebars from "handlebars";
import { packageRoot } from "../util/package-root.js";
import type { ReportView } from "./view-model.js";

const require = createRequire(import.meta.url);

/** One self-contained HTML file: uPlot and the data inlined, nothing fetched when it is opened. */
export function renderHtml(view: ReportView, sources: string[]): string {
  const template = Handlebars.compile(
    readFileSync(path.join(packageRoot(), "src", "report", "templates", "report.html.hbs"), "utf8"),
  );
  const uplotDir = path.dirname(require.resolve("uplot/dist/uPlot.iife.min.js"));
  return template({
    ...view,
    sources: sources.map((s) => path.basename(s)).join(", "),
    generatedAt: new Date().toISOString(),
    uplotJs: readFileSync(path.join(uplotDir, "uPlot.iife.min.js"), "utf8"),
    uplotCss: readFileSync(path.join(uplotDir, "uPlot.min.css"), "utf8"),
    // </script> inside the data would end the script element early.
    chartsJson: JSON.stringify(view.charts).replace(/</g, "\\u003c"),
    stageBars: view.stageBars ? barsModel(view.stageBars) : undefined,
  });
}

const STAGE_COLOURS = ["#8c959f", "#0969da", "#bc4c00", "#8250df"];

/** Stacked bars as plain HTML: widths in % of the longest bar, so stacks compare at a glance. */
function barsModel(b: NonNullable<ReportView["stageBars"]>) {
  const stages = [...new Set(b.bars.flatMap((bar) => bar.segments.map((x) => x.stage)))];
  const colour = (stage: string) => STAGE_COLOURS[stages.indexOf(stage) % STAGE_COLOURS.length];
  const longest = Math.max(...b.bars.map((bar) => bar.segments.reduce((a, x) => a + x.ms, 0)), 1e-9);
  return {
    title: b.title,
    note: b.note,
    legend: stages.map((stage) => ({ stage, colour: colour(stage) })),
    bars: b.bars.map((bar) => ({
      label: bar.label,
      total: bar.totalMs === undefined ? "—" : `${bar.totalMs.toFixed(1)} ms`,
      segments: bar.segments.map((x) => ({
        stage: x.stage,
        ms: x.ms.toFixed(1),
        width: ((100 * x.ms) / longest).toFixed(2),
        colour: colour(x.stage),
      })),
    })),
  };
}
