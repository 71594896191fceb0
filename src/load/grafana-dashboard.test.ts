import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { packageRoot } from "../util/package-root.js";

/**
 * dashboards/cutover-openim.json: every query names only metrics that exist — cutover's live
 * metrics (src/load/live-metrics.ts) and OpenIM v3.8.3's (pkg/common/prommetrics, with Go's
 * process and runtime collectors) — and every panel reads the dashboard's own Prometheus variable.
 */

const CUTOVER = [
  "cutover_sent_total",
  "cutover_acked_total",
  "cutover_expected_deliveries_total",
  "cutover_delivered_total",
  "cutover_lost_total",
  "cutover_errors_total",
  "cutover_dropped_iterations_total",
  "cutover_in_flight",
  "cutover_connected",
  "cutover_outstanding_deliveries",
  "cutover_sut_rss_bytes",
  "cutover_sut_cpu_percent",
  "cutover_generator_rss_bytes",
  "cutover_generator_cpu_percent",
  "cutover_ack_latency_seconds",
  "cutover_e2e_latency_seconds",
];
const OPENIM = [
  "single_chat_msg_process_success_total",
  "single_chat_msg_process_failed_total",
  "group_chat_msg_process_success_total",
  "group_chat_msg_process_failed_total",
  "msg_insert_mongo_success_total",
  "msg_insert_mongo_failed_total",
  "seq_set_failed_total",
  "online_user_num",
  "msg_offline_push_failed_total",
  "msg_long_time_push_total",
  "user_login_total",
  "user_register_total",
  "api_count",
  "http_count",
  "rpc_count",
  "process_resident_memory_bytes",
  "process_cpu_seconds_total",
  "go_goroutines",
  "go_gc_duration_seconds",
];
const HISTOGRAMS = ["cutover_ack_latency_seconds", "cutover_e2e_latency_seconds", "go_gc_duration_seconds"];
const KNOWN = new Set([
  ...CUTOVER,
  ...OPENIM,
  ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
]);
const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
]);

/** The metric names a PromQL expression reads (labels, ranges, strings, functions and keywords left out). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names: string[] = [];
  for (const m of bare.matchAll(/(?<![\w$.])([a-zA-Z_:][\w:]*)\s*(\()?/g)) {
    const [, name, call] = m;
    if (!name || call || KEYWORDS.has(name)) continue;
    names.push(name);
  }
  return names;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
  gridPos: { h: number; w: number; x: number; y: number };
}

const dashboard = JSON.parse(
  readFileSync(path.join(packageRoot(), "dashboards", "cutover-openim.json"), "utf8"),
) as {
  schemaVersion: number;
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
};
const queried = dashboard.panels.filter((p) => p.type !== "row");

const DATASOURCE = "$" + "{datasource}"; // Grafana's variable syntax, not a template literal

describe("the Grafana dashboard over cutover's and OpenIM's metrics", () => {
  test("metricNames() reads a PromQL expression's metrics and nothing else", () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(cutover_e2e_latency_seconds_bucket{run=~"$run"}[$__rate_interval])))',
      ),
    ).toEqual(["cutover_e2e_latency_seconds_bucket"]);
    expect(metricNames("sum(rate(a_total[5m])) / on (job) group_left b")).toEqual(["a_total", "b"]);
  });

  test("every query names only metrics cutover or OpenIM v3.8.3 expose", () => {
    const seen = new Set<string>();
    for (const p of queried) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        const names = metricNames(t.expr);
        expect(names.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const n of names) {
          expect(KNOWN.has(n), `${p.title}: ${n} is not a known metric`).toBe(true);
          const base = n.replace(/_(bucket|sum|count)$/, "");
          seen.add(HISTOGRAMS.includes(base) ? base : n);
        }
      }
    }
    // Both sides are on the dashboard: the clients' books and latency, the server's books and resources.
    for (const n of [
      "cutover_sent_total",
      "cutover_delivered_total",
      "cutover_in_flight",
      "cutover_ack_latency_seconds",
      "cutover_e2e_latency_seconds",
      "cutover_errors_total",
      "cutover_dropped_iterations_total",
      ...OPENIM,
    ])
      expect(seen.has(n), `${n} is on no panel`).toBe(true);
  });

  test("a Prometheus datasource variable that every panel and query reads", () => {
    const ds = dashboard.templating.list.find((v) => v.name === "datasource");
    expect(ds).toMatchObject({ type: "datasource", query: "prometheus" });
    for (const p of queried) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: DATASOURCE });
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe(DATASOURCE);
    }
  });

  test("a current Grafana's schema; unique panel ids; panels inside the 24-column grid", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.uid).toBe("cutover-openim");
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });
});
