import type { Cell, ReportView } from "./view-model.js";

const MAX_CELL = 400;
const cell = (s: string) => {
  const flat = s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL)}…` : flat;
};
const show = (c: Cell) => (c.href ? `[${cell(c.text)}](${c.href})` : cell(c.text));

/** The same view as Markdown, for a CI step summary or a PR comment (charts are left to the HTML). */
export function renderMarkdown(view: ReportView): string {
  const icon = view.verdictClass === "ok" ? "✅" : view.verdictClass === "warn" ? "⚠️" : "❌";
  const out = [`## ${view.title} — ${icon} ${view.verdict}`, "", view.subtitle, ""];
  for (const t of view.tables) {
    out.push(`### ${t.title}`, "");
    if (t.note) out.push(`_${t.note}_`, "");
    out.push(`| ${t.head.map(cell).join(" | ")} |`, `|${t.head.map(() => "---").join("|")}|`);
    for (const row of t.rows) out.push(`| ${row.map(show).join(" | ")} |`);
    out.push("");
  }
  if (view.stageBars) {
    const { title, note, bars } = view.stageBars;
    const stages = [...new Set(bars.flatMap((b) => b.segments.map((x) => x.stage)))];
    out.push(`### ${title}`, "", `_${note}_`, "", `| | ${stages.map(cell).join(" | ")} | e2e p50 |`);
    out.push(`|---|${stages.map(() => "---").join("|")}|---|`);
    for (const b of bars) {
      const at = (stage: string) => b.segments.find((x) => x.stage === stage)?.ms;
      const ms = (v: number | undefined) => (v === undefined ? "—" : v.toFixed(1));
      out.push(`| ${cell(b.label)} | ${stages.map((st) => ms(at(st))).join(" | ")} | ${ms(b.totalMs)} |`);
    }
    out.push("");
  }
  for (const b of view.blocks) out.push(`### ${b.title}`, "", "```", b.text, "```", "");
  if (view.caveats.length > 0)
    out.push("### Where these numbers come from", "", ...view.caveats.map((c) => `- ${c}`), "");
  return `${out.join("\n")}\n`;
}
