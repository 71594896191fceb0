import { type ChartSpec, timeChart } from "./chart-data.js";
import type { LoadResults } from "./results-schema.js";
import type { Cell, Table } from "./view-model.js";

const c = (text: string | number, cls?: string): Cell => ({ text: String(text), cls });
const num = (v: number | null | undefined, digits = 0): Cell =>
  c(
    v === null || v === undefined ? "—" : v.toLocaleString("en-US", { maximumFractionDigits: digits }),
    "num",
  );

/** The server's side of a run: its books beside the clients', its own processes, from its Prometheus. */
export function serverTables(r: LoadResults): Table[] {
  const s = r.server;
  if (!s) return [];
  if ("unavailable" in s)
    return [{ title: "Server books", note: `not read: ${s.unavailable}`, head: [], rows: [] }];
  const tables: Table[] = [
    {
      title: "Server books beside client books",
      note: `${s.summary}. From the server's own counters (OpenIM's Prometheus metrics) over ${s.window.start} … ${s.window.end}, scraped every ${s.window.scrapeIntervalSec}s by ${s.source}, read exactly (no extrapolation).${s.targetsDown.length ? ` Targets down: ${s.targetsDown.join("; ")}.` : ""}`,
      head: ["stage", "server", "clients", "difference", "", "what it means"],
      rows: s.reconciliation.map((l) => [
        c(l.stage),
        num(l.server),
        num(l.clients),
        num(l.difference),
        c(l.ok ? "ok" : "differs", l.ok ? "better" : "worse"),
        c(l.explanation),
      ]),
    },
    {
      title: "Server counters over the run",
      note: `online_user_num at the end: ${s.onlineUsers.server ?? "—"} (clients held ${s.onlineUsers.clientsConnected} connections; ${s.onlineUsers.note})`,
      head: ["metric", "increase", "what OpenIM counts"],
      rows: [
        ...s.counters.map((k) => [c(k.metric), num(k.value), c(k.what)]),
        ...s.gatewayPushes.map((g) => [
          c(`rpc_count SuperGroupOnlineBatchPushOneMsg @ ${g.instance}`),
          num(g.value),
          c("messages push handed to this message gateway (code 0)"),
        ]),
      ],
    },
  ];
  if (s.resources?.processes.length)
    tables.push({
      title: "Server processes (from their own metrics)",
      note: "process_* and go_* collectors of every scraped process: works the same for local, docker and external stacks.",
      head: [
        "job",
        "instance",
        "CPU mean (cores)",
        "CPU max",
        "RSS start MB",
        "RSS end MB",
        "RSS max MB",
        "goroutines max",
        "GC/min",
      ],
      rows: s.resources.processes.map((p) => [
        c(p.job),
        c(p.instance),
        num(p.cpuMean, 3),
        num(p.cpuMax, 3),
        num(p.rssStartMB, 1),
        num(p.rssEndMB, 1),
        num(p.rssMaxMB, 1),
        num(p.goroutinesMax),
        num(p.gcPerMinute, 1),
      ]),
    });
  return tables;
}

/** Total RSS per job over the measured window, from Prometheus (a soak's server memory over time). */
export function serverCharts(r: LoadResults): ChartSpec[] {
  const s = r.server;
  if (!s || "unavailable" in s || !s.resources?.memory.length) return [];
  const memory = s.resources.memory;
  const x = [...new Set(memory.flatMap((m) => m.points.map(([t]) => t)))].sort((a, b) => a - b);
  return [
    timeChart(
      "server-rss",
      "Server memory by job (Prometheus, RSS)",
      "MB",
      x,
      memory.map((m) => {
        const at = new Map(m.points);
        return { label: m.job, values: x.map((t) => at.get(t) ?? null) };
      }),
    ),
  ];
}
