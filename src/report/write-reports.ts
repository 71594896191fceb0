import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import type { ReportView } from "./view-model.js";

export interface ReportTargets {
  html?: string;
  md?: string;
}

/** Writes the HTML and Markdown renderings of one view; returns the files written. */
export function writeReports(view: ReportView, sources: string[], targets: ReportTargets): string[] {
  const written: string[] = [];
  const put = (file: string | undefined, text: () => string) => {
    if (!file) return;
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileSync(file, text());
    written.push(file);
  };
  put(targets.html, () => renderHtml(view, sources));
  put(targets.md, () => renderMarkdown(view));
  return written;
}
