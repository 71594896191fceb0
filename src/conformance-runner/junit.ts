import type { ConformanceResults } from "./results.js";

const esc = (s: string) =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these characters, so they are removed
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");

/** JUnit XML for CI systems: one testsuite per cutover suite, skip reasons and failures kept. */
export function conformanceJunit(results: ConformanceResults): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const { totals } = results;
  lines.push(
    `<testsuites name="cutover conformance" tests="${results.cases.length}" failures="${totals.failed}" skipped="${totals.skipped}">`,
  );
  for (const suite of results.suites) {
    const cases = results.cases.filter((c) => c.suite === suite);
    const failed = cases.filter((c) => c.state === "failed").length;
    const skipped = cases.filter((c) => c.state === "skipped").length;
    const time = cases.reduce((t, c) => t + c.durationMs, 0) / 1000;
    lines.push(
      `  <testsuite name="${esc(suite)}" tests="${cases.length}" failures="${failed}" skipped="${skipped}" time="${time.toFixed(3)}">`,
    );
    for (const c of cases) {
      const open = `    <testcase classname="${esc(suite)}" name="${esc(c.fullName)}" time="${(c.durationMs / 1000).toFixed(3)}"`;
      if (c.state === "passed") lines.push(`${open}/>`);
      else if (c.state === "skipped")
        lines.push(`${open}><skipped message="${esc(c.skipReason ?? "")}"/></testcase>`);
      else
        lines.push(
          `${open}><failure message="${esc((c.error ?? "").split("\n")[0] ?? "")}">${esc(c.error ?? "")}</failure></testcase>`,
        );
    }
    lines.push("  </testsuite>");
  }
  if (results.serverErrors.length > 0) {
    lines.push(
      `  <testsuite name="server-logs" tests="1" failures="0"><testcase classname="server-logs" name="errors logged by the stack during the run"><system-out>${esc(
        results.serverErrors
          .map((e) => `[${e.process}]${e.duringCase ? ` (during ${e.duringCase})` : ""} ${e.line}`)
          .join("\n"),
      )}</system-out></testcase></testsuite>`,
    );
  }
  lines.push("</testsuites>", "");
  return lines.join("\n");
}
