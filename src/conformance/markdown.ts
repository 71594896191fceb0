import type { ConformanceResults } from "./results.js";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A Markdown summary for a CI step summary or a PR comment. */
export function conformanceMarkdown(results: ConformanceResults): string {
  const { totals } = results;
  const verdict = totals.failed === 0 ? "✅ passed" : `❌ ${totals.failed} failed`;
  const out = [
    `## cutover conformance — ${verdict}`,
    "",
    `${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped · stack \`${results.target.stack}\` · ${results.startedAt}`,
    "",
    "| suite | passed | failed | skipped |",
    "|---|---:|---:|---:|",
  ];
  for (const suite of results.suites) {
    const cases = results.cases.filter((c) => c.suite === suite);
    const n = (state: string) => cases.filter((c) => c.state === state).length;
    out.push(`| ${suite} | ${n("passed")} | ${n("failed")} | ${n("skipped")} |`);
  }
  const failed = results.cases.filter((c) => c.state === "failed");
  if (failed.length > 0) {
    out.push("", "### Failures", "");
    for (const c of failed)
      out.push(
        `- **${cell(c.fullName)}** (${c.suite})`,
        "",
        "  ```",
        ...(c.error ?? "")
          .split("\n")
          .slice(0, 12)
          .map((l) => `  ${l}`),
        "  ```",
      );
  }
  const skipped = results.cases.filter((c) => c.state === "skipped");
  if (skipped.length > 0) {
    out.push("", "### Skipped", "", "| case | why |", "|---|---|");
    for (const c of skipped) out.push(`| ${cell(c.fullName)} | ${cell(c.skipReason ?? "")} |`);
  }
  if (results.serverErrors.length > 0) {
    out.push("", `### Errors the stack logged during the run (${results.serverErrors.length})`, "");
    for (const e of results.serverErrors.slice(0, 20))
      out.push(
        `- \`${e.process}\`${e.duringCase ? ` during _${cell(e.duringCase)}_` : ""}: \`${cell(e.line.slice(0, 200))}\``,
      );
  }
  if (results.caveats.length > 0)
    out.push("", "### Environment", "", ...results.caveats.map((c) => `- ${c}`));
  return `${out.join("\n")}\n`;
}
