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
  });
}
