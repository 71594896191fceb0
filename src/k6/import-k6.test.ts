import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { runCutover } from "../../test/support/cli.js";
import { compareFiles } from "../compare/compare-files.js";
import { readLoadResults, readResults } from "../report/read-results.js";
import { viewOf } from "../report/view-of.js";
import { writeReports } from "../report/write-reports.js";
import { UsageError } from "../util/errors.js";
import { importK6, writeImported } from "./import-k6.js";
import { k6Threshold } from "./k6-thresholds.js";

// Fixtures in k6's documented `--out json` line format (grafana/k6 internal/output/json/wrapper.go):
// a Metric line before a metric's first Point, then one Point per sample.

interface Decl {
  type: "counter" | "gauge" | "trend" | "rate";
  contains?: string;
  thresholds?: string[];
}
interface Sample {
  metric: string;
  value: number;
  /** ms after the run's start. */
  t: number;
  tags?: Record<string, string>;
}

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const dir = mkdtempSync(path.join(os.tmpdir(), "cutover-k6-import-"));
let fileNo = 0;

function k6Lines(decls: Record<string, Decl>, samples: Sample[], scenario = "direct-chat"): string[] {
  const lines: string[] = [];
  const declared = new Set<string>();
  for (const s of samples) {
    const d = decls[s.metric];
    if (!d) throw new Error(`fixture: no decl for ${s.metric}`);
    if (!declared.has(s.metric)) {
      declared.add(s.metric);
      lines.push(
        JSON.stringify({
          type: "Metric",
          data: {
            name: s.metric,
            type: d.type,
            contains: d.contains ?? (d.type === "trend" ? "time" : "default"),
            thresholds: d.thresholds ?? [],
            submetrics: null,
          },
          metric: s.metric,
        }),
      );
    }
    lines.push(
      JSON.stringify({
        metric: s.metric,
        type: "Point",
        data: { time: new Date(T0 + s.t).toISOString(), value: s.value, tags: { scenario, ...s.tags } },
      }),
    );
  }
  return lines;
}

function writeK6(lines: string[], opts: { gzip?: boolean; tail?: string } = {}): string {
  const file = path.join(dir, `run-${++fileNo}.json${opts.gzip ? ".gz" : ""}`);
  const text = `${lines.join("\n")}\n${opts.tail ?? ""}`;
  writeFileSync(file, opts.gzip ? gzipSync(text) : text);
  return file;
}

const DECLS: Record<string, Decl> = {
  ack: { type: "trend" },
  e2e: { type: "trend", thresholds: ["p(99)<200"] },
  sent: { type: "counter", thresholds: ["count>10"] },
  acked: { type: "counter" },
  delivered: { type: "counter" },
  lost: { type: "counter", thresholds: ["count==0"] },
  expected_deliveries: { type: "counter" },
  iterations: { type: "counter" },
  checks: { type: "rate", thresholds: ["rate>0.99"] },
  vus: { type: "gauge" },
};

/** A direct-chat run of `n` messages, every one delivered, with e2e from a fixed pseudo-random sequence. */
function directChatSamples(n: number, e2eOf: (i: number) => number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const t = i * 5;
    out.push({ metric: "iterations", value: 1, t });
    out.push({ metric: "sent", value: 1, t });
    out.push({ metric: "acked", value: 1, t });
    out.push({ metric: "ack", value: 3 + (i % 7), t });
    out.push({ metric: "expected_deliveries", value: 1, t });
    out.push({ metric: "delivered", value: 1, t: t + 1 });
    out.push({ metric: "e2e", value: e2eOf(i), t: t + 1 });
    out.push({ metric: "lost", value: 0, t: t + 2 });
    out.push({ metric: "checks", value: 1, t });
  }
  out.push({ metric: "vus", value: 5, t: n * 5 });
  return out;
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** Nearest-rank percentile of raw values: what an exact computation gives. */
function exactPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

describe("cutover import k6", () => {
  test("percentiles come from every raw point, within HDR's 3 significant digits", async () => {
    const rnd = lcg(7);
    const e2e = Array.from({ length: 5000 }, () => Math.round((5 + rnd() * rnd() * 400) * 1000) / 1000);
    const file = writeK6(
      k6Lines(
        DECLS,
        directChatSamples(e2e.length, (i) => e2e[i] ?? 0),
      ),
    );
    const { results } = await importK6({ files: [file] });
    const m = results.metrics?.e2e;
    expect(m?.count).toBe(5000);
    for (const [p, key] of [
      [50, "p50"],
      [90, "p90"],
      [99, "p99"],
      [99.9, "p99_9"],
    ] as const) {
      const exact = exactPercentile(e2e, p);
      expect(Math.abs((m?.[key] ?? 0) - exact)).toBeLessThanOrEqual(exact * 0.001 + 0.002);
    }
    expect(m?.max).toBeCloseTo(Math.max(...e2e), 0);
    expect(results.counters?.sent).toBe(5000);
    expect(results.accounting).toEqual({ expected: 5000, delivered: 5000, lost: 0, balanced: true });
  });

  test("three runners merge into exactly what one file holding all their points gives", async () => {
    const rnd = lcg(11);
    const samples = directChatSamples(900, () => 10 + rnd() * 150);
    const single = writeK6(k6Lines(DECLS, samples));
    // k6-operator: each runner writes its own file; here they are also told apart by instance_id.
    const parts = [0, 1, 2].map((r) =>
      writeK6(
        k6Lines(
          DECLS,
          samples
            .filter((_, i) => Math.floor(i / 9) % 3 === r)
            .map((s) => ({ ...s, tags: { instance_id: String(r) } })),
        ),
      ),
    );
    const one = await importK6({ files: [single] });
    const three = await importK6({ files: parts });
    expect(three.runners).toBe(3);
    expect(one.runners).toBe(1);
    expect(three.results.counters).toEqual(one.results.counters);
    for (const name of ["ack", "e2e"]) {
      const { histogram: h3, ...s3 } = three.results.metrics?.[name] ?? {};
      const { histogram: h1, ...s1 } = one.results.metrics?.[name] ?? {};
      expect(s3).toEqual(s1);
      expect(h3?.data).toBe(h1?.data);
    }
    expect(three.results.thresholds).toEqual(one.results.thresholds);
    // The report's time charts too: per-second intervals from all runners' points.
    expect(three.results.intervals).toEqual(one.results.intervals);
    expect((one.results.intervals ?? []).reduce((a, i) => a + i.sent, 0)).toBe(900);
  });

  test("k6's threshold semantics are judged by cutover's evaluator: p(99)<200, rate, count", async () => {
    // 2% of e2e at 300 ms: p(99) crosses 200; 3% failed checks: rate>0.99 fails; 100 sent: count>10 holds.
    let check = 0;
    const samples = directChatSamples(100, (i) => (i % 50 === 0 ? 300 : 20)).map((s) =>
      s.metric === "checks" && check++ % 100 < 3 ? { ...s, value: 0 } : s,
    );
    const file = writeK6(k6Lines(DECLS, samples));
    const { results } = await importK6({ files: [file] });
    const by = Object.fromEntries((results.thresholds ?? []).map((t) => [t.expression, t]));
    expect(by["e2e: p(99)<200 (k6)"]).toMatchObject({ metric: "e2e", stat: "p99", ok: false });
    expect(by["e2e: p(99)<200 (k6)"]?.actual).toBeCloseTo(300, 0); // within HDR's 0.1%
    expect(by["sent: count>10 (k6)"]).toMatchObject({ ok: true, actual: 100 });
    expect(by["lost: count==0 (k6)"]).toMatchObject({ ok: true, actual: 0 });
    expect(by["checks: rate>0.99 (k6)"]?.ok).toBe(false);
    expect(by["checks: rate>0.99 (k6)"]?.actual).toBeCloseTo(0.97, 2);
    // The cutover scenario's own thresholds are judged too (direct-chat: e2e.p99 < 200ms, lost == 0).
    expect(by["e2e.p99 < 200ms"]?.ok).toBe(false);
    expect(by["lost == 0"]?.ok).toBe(true);
    expect(results.status).toBe("failed");
  });

  test("k6 aggregations map onto cutover's statistics and counter names", () => {
    expect(k6Threshold("e2e", "trend", "p(99)<200")).toMatchObject({
      metric: "e2e",
      stat: "p99",
      op: "<",
      value: 200,
    });
    expect(k6Threshold("e2e", "trend", "p(99.9) <= 500")).toMatchObject({ stat: "p99.9", op: "<=" });
    expect(k6Threshold("ack", "trend", "avg<50")).toMatchObject({ stat: "mean" });
    expect(k6Threshold("ack", "trend", "med<50")).toMatchObject({ stat: "p50" });
    expect(k6Threshold("http_req_failed", "rate", "rate<0.01")).toMatchObject({
      metric: "http_req_failed",
      op: "<",
    });
    expect(k6Threshold("sent", "counter", "count>100")).toMatchObject({
      metric: "sent",
      op: ">",
      value: 100,
    });
    expect(k6Threshold("sent", "counter", "rate>=40")).toMatchObject({ metric: "sent_per_s", op: ">=" });
    expect(k6Threshold("lost", "counter", "count===0")).toMatchObject({ op: "==" });
    expect(() => k6Threshold("e2e", "trend", "p(75)<1")).toThrow(/p50 p90 p95 p99/);
    expect(() => k6Threshold("sent", "counter", "avg<1")).toThrow(/not an aggregation of a counter/);
  });

  test("gzipped output (k6 --out json=run.json.gz) reads like the plain file", async () => {
    const lines = k6Lines(
      DECLS,
      directChatSamples(200, (i) => 10 + (i % 13)),
    );
    const plain = await importK6({ files: [writeK6(lines)] });
    const gz = await importK6({ files: [writeK6(lines, { gzip: true })] });
    expect(gz.results.metrics).toEqual(plain.results.metrics);
    expect(gz.results.counters).toEqual(plain.results.counters);
  });

  test("a last line cut short (a killed runner) is a warning; the rest is used", async () => {
    const lines = k6Lines(
      DECLS,
      directChatSamples(50, () => 12),
    );
    const file = writeK6(lines, { tail: '{"metric":"e2e","type":"Point","data":{"time":"2026-12-' });
    const r = await importK6({ files: [file] });
    expect(r.warnings).toEqual([
      expect.stringMatching(new RegExp(`${file}:${lines.length + 1}: last line is cut short`)),
    ]);
    expect(r.results.counters?.sent).toBe(50);
    expect(r.results.environment.caveats.join("\n")).toContain("cut short");
  });

  test("a gzip file cut off mid-stream (a killed runner) is a warning; what inflated is used", async () => {
    const lines = k6Lines(
      DECLS,
      directChatSamples(2000, (i) => 10 + (i % 17)),
    );
    const whole = gzipSync(`${lines.join("\n")}\n`);
    const file = path.join(dir, `cut-${++fileNo}.json.gz`);
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.7)));
    const r = await importK6({ files: [file] });
    expect(r.warnings.join("\n")).toMatch(/cut short|ends early/);
    expect(r.results.counters?.sent).toBeGreaterThan(100);
    expect(r.results.counters?.sent).toBeLessThan(2000);
  });

  test("bad input is one line naming the file and line", async () => {
    const lines = k6Lines(
      DECLS,
      directChatSamples(20, () => 12),
    );
    const notK6 = writeK6(["hello world", "second"]);
    await expect(importK6({ files: [notK6] })).rejects.toThrow(new RegExp(`^${notK6}:1: not JSON`));
    const notEnvelope = writeK6(['{"foo":1}']);
    await expect(importK6({ files: [notEnvelope] })).rejects.toThrow(`${notEnvelope}:1: not a k6 JSON line`);
    const cut = [...lines];
    cut[4] = (cut[4] ?? "").slice(0, 30);
    const middle = writeK6(cut);
    await expect(importK6({ files: [middle] })).rejects.toThrow(`${middle}:5: not JSON`);
    const undeclared = writeK6([
      ...lines,
      JSON.stringify({
        metric: "ghost",
        type: "Point",
        data: { time: "2026-12-01T10:00:00Z", value: 1, tags: null },
      }),
    ]);
    await expect(importK6({ files: [undeclared] })).rejects.toThrow(
      `${undeclared}:${lines.length + 1}: a Point of metric ghost, which no Metric line before it declares`,
    );
    // A run without e2e cannot be direct-chat's: its threshold e2e.p99 < 200ms has nothing to judge.
    const noE2e = writeK6(
      k6Lines(
        DECLS,
        directChatSamples(20, () => 1).filter((s) => s.metric !== "e2e"),
      ),
    );
    await expect(importK6({ files: [noE2e] })).rejects.toThrow(
      new RegExp(`^${noE2e}:\\d+: no line declares metric e2e, which scenario direct-chat`),
    );
    await expect(importK6({ files: [notK6] })).rejects.toBeInstanceOf(UsageError);
  });

  test("the results file it writes is one cutover report and compare read", async () => {
    const file = writeK6(
      k6Lines(
        DECLS,
        directChatSamples(100, () => 15),
      ),
    );
    const { results } = await importK6({ files: [file], driver: "k6-openim" });
    const out = writeImported(path.join(dir, "imported"), results);
    const back = readLoadResults(out);
    expect(back.target.driver).toBe("k6-openim");
    expect(back.scenario.name).toBe("direct-chat");
    expect(back.status).toBe("passed");
  });

  test("cutover report and cutover compare work on imported k6 runs (k6 legacy vs k6 OpenIM)", async () => {
    const sides: Record<string, string[]> = { legacy: [], openim: [] };
    for (const [side, base] of [
      ["legacy", 10],
      ["openim", 40],
    ] as const)
      for (let run = 0; run < 3; run++) {
        const file = writeK6(
          k6Lines(
            DECLS,
            directChatSamples(200, (i) => base + run + (i % 11)),
          ),
        );
        const { results } = await importK6({ files: [file], driver: `k6-${side}` });
        sides[side]?.push(writeImported(path.join(dir, `cmp-${side}-${run}`), results));
      }
    const [firstOpenim = ""] = sides.openim ?? [];
    const written = writeReports(viewOf(readResults(firstOpenim)), [firstOpenim], {
      html: path.join(dir, "k6-report.html"),
    });
    expect(written).toEqual([path.join(dir, "k6-report.html")]);
    const outDir = path.join(dir, "k6-compare");
    mkdirSync(outDir);
    const { comparison } = compareFiles({
      baselineFiles: sides.legacy ?? [],
      candidateFiles: sides.openim ?? [],
      interleaved: false,
      gate: [],
      outDir,
    });
    const e2e = comparison.metrics.find((m) => m.metric === "e2e.p50");
    expect(e2e?.baseline.median).toBeLessThan(e2e?.candidate.median ?? 0);
    expect(comparison.baseline.label).toBe("k6-legacy");
  });

  test("the CLI exits 99 when a threshold is crossed and 2 on bad input", () => {
    const crossed = writeK6(
      k6Lines(
        DECLS,
        directChatSamples(100, () => 400),
      ),
    );
    const cli = (...args: string[]) => runCutover(["import", "k6", ...args]);
    // A --threshold before the files takes one value and leaves the files alone.
    const bad = cli("--threshold", "sent>=100", crossed, "--out", path.join(dir, "cli-crossed"));
    expect(bad.code, bad.stderr).toBe(99);
    expect(bad.stdout).toContain("✗ e2e.p99 < 200ms");
    expect(bad.stdout).toContain("✓ sent >= 100");
    const broken = cli(writeK6(["not json", "x"]), "--out", path.join(dir, "cli-broken"));
    expect(broken.code).toBe(2);
    expect(broken.stderr.trim().split("\n")).toHaveLength(1);
  }, 30_000);
});
