import type { DerivedRow } from "./row.js";

/** The results file's rows as the Markdown table the README carries, with the machine and date. */
export interface PeersResults {
  at: string;
  host: { cpus: number; cpuModel: string; node: string; loadAverage: number[] };
  parameters: { rate: number; durationMs: number; users: number; drainMs: number; textChars: number };
  targets: { name: string; label: string }[];
  rows: DerivedRow[];
  skipped: { what: string; why: string }[];
  caveats: string[];
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
const num = (n: number | null | undefined, d = 0) => (n === null || n === undefined ? "—" : n.toFixed(d));

function latencyCell(r: DerivedRow): string {
  const parts: string[] = [];
  for (const [name, l] of Object.entries(r.latencies)) {
    const v: string[] = [];
    if (l.p50 !== undefined) v.push(`p50 ${num(l.p50, 1)}`);
    if (l.p99 !== undefined) v.push(`p99 ${num(l.p99, 1)}`);
    if (l.mean !== undefined && l.p50 === undefined) v.push(`mean ${num(l.mean, 1)}`);
    if (l.max !== undefined) v.push(`max ${num(l.max, 0)}`);
    parts.push(`${name}: ${v.join(", ")} ms`);
  }
  return parts.length > 0 ? parts.join("; ") : "none";
}

function errorsCell(r: DerivedRow): string {
  const e = Object.entries(r.errors);
  return e.length === 0 ? "0" : e.map(([k, v]) => `${k}: ${v}`).join(", ");
}

export function markdownTable(res: PeersResults): string {
  const p = res.parameters;
  const lines = [
    `Peers in the same run (\`npm run bench:peers\`), ${res.at.slice(0, 16).replace("T", " ")} UTC — ${res.host.cpus} × ${res.host.cpuModel}, Node ${res.host.node}, load average ${res.host.loadAverage.map((l) => l.toFixed(1)).join(" ")}.`,
    `Workload: ${p.users} users in pairs, ${p.rate} SendMsg/s in all for ${p.durationMs / 1000} s (+ ${p.drainMs / 1000} s drain), ~${p.textChars}-character texts; REST: OpenIM's admin \`msg/send_msg\` at the same rate.`,
    "CPU is the generator's process tree (/proc utime+stime) from the schedule's start to its end plus the drain: start-up and logins left out. The machine is shared with the stack and other work: timings are noisy; compare rows of one run.",
    "",
    "| tool | target | path | intended /s | achieved /s | sent | back (as the tool counts) | CPU µs / sent msg | peak RSS MB | latencies it reports (ms) | errors |",
    "|---|---|---|--:|--:|--:|--:|--:|--:|---|---|",
  ];
  for (const r of res.rows)
    lines.push(
      `| ${r.tool} | ${r.target} | ${r.path} | ${r.intendedRate} | ${num(r.achievedRate, 1)} | ${r.sent} | ${num(r.received)} | ${num(r.cpuMicrosPerSentMessage)} | ${mb(r.peakRssBytes)} | ${latencyCell(r)} | ${errorsCell(r)} |`,
    );
  lines.push("", "What each tool could and could not tell:", "");
  const seen = new Set<string>();
  for (const r of res.rows) {
    if (seen.has(r.tool)) continue;
    seen.add(r.tool);
    lines.push(`- **${r.tool}**: ${r.latencyNote}. ${r.notes.join("; ")}.`);
  }
  for (const s of res.skipped) lines.push(`- not run: ${s.what} — ${s.why}`);
  for (const c of res.caveats) lines.push(`- ${c}`);
  return `${lines.join("\n")}\n`;
}
