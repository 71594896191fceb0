/**
 * Does splitting a run into shards change what it measures? The same total rate run as 1, 2
 * and 4 shards (separate processes behind the start barrier, merged with `cutover merge`),
 * several times each in interleaved order, then `cutover compare` of each shard count against
 * the single process: medians with bootstrap CIs and the rank test's verdict per metric.
 * Runs against a stack that is already up (its run dir), so every run meets the same server.
 *
 *   node --import tsx bench/shard-scaling.ts --run-dir /tmp/run --rate 100 --duration 20s --runs 4
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../src/load/toxiproxy.js";
import { comparisonResultsSchema } from "../src/report/comparison-schema.js";
import { outputLocations } from "../src/run/output-locations.js";

const { values: args } = parseArgs({
  options: {
    "run-dir": { type: "string" },
    config: { type: "string" },
    scenario: { type: "string", default: "direct-chat" },
    driver: { type: "string", default: "openim-direct" },
    rate: { type: "string", default: "100" },
    users: { type: "string", default: "80" },
    duration: { type: "string", default: "20s" },
    shards: { type: "string", default: "1,2,4" },
    runs: { type: "string", default: "4" },
    out: { type: "string" },
  },
});
if (!args["run-dir"]) throw new Error("--run-dir <dir>: the run dir of a stack that is up");
const counts = (args.shards ?? "1,2,4").split(",").map(Number);
const runs = Number(args.runs);
const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const out = path.resolve(args.out ?? path.join(outputLocations.benchResults, `shards-${stamp}`));
mkdirSync(out, { recursive: true });

function cutover(argv: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...argv], {
      env: { ...process.env, NO_COLOR: "1" },
    });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 15 * 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

const common = [
  "load",
  args.scenario ?? "direct-chat",
  "--stack",
  "local",
  "--run-dir",
  args["run-dir"],
  ...(args.config ? ["--config", args.config] : []),
  "--driver",
  args.driver ?? "openim-direct",
  "--rate",
  args.rate ?? "100",
  "--users",
  args.users ?? "80",
  "--duration",
  args.duration ?? "20s",
  "--warmup",
  "0",
  "--workers",
  "1",
];

/** One run as n processes; returns the results file that stands for it (merged when n > 1). */
async function runOnce(n: number, rep: number): Promise<string> {
  const dir = path.join(out, `n${n}-run${rep}`);
  if (n === 1) {
    const r = await cutover([...common, "--out", dir]);
    if (![0, 99].includes(r.code))
      throw new Error(`1 shard, run ${rep}: exit ${r.code}\n${r.output.slice(-1500)}`);
    return path.join(dir, "results.json");
  }
  const barrier = `http://127.0.0.1:${await freePort()}`;
  const shards = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      cutover([
        ...common,
        "--shard",
        `${i}/${n}`,
        "--barrier",
        barrier,
        "--out",
        path.join(dir, `shard-${i}`),
      ]),
    ),
  );
  for (const [i, r] of shards.entries())
    if (![0, 99].includes(r.code))
      throw new Error(`shard ${i}/${n}, run ${rep}: exit ${r.code}\n${r.output.slice(-1500)}`);
  const merged = await cutover(["merge", dir, "--out", path.join(dir, "merged")]);
  if (![0, 99].includes(merged.code))
    throw new Error(`merge ${n} shards: exit ${merged.code}\n${merged.output}`);
  return path.join(dir, "merged", "results.json");
}

const files = new Map<number, string[]>(counts.map((n) => [n, []]));
// Interleaved: every shard count once per round, so a drift in the stack over time hits all alike.
for (let rep = 0; rep < runs; rep++)
  for (const n of counts) {
    const file = await runOnce(n, rep);
    files.get(n)?.push(file);
    const r = JSON.parse(readFileSync(file, "utf8")) as {
      counters: { sent: number; lost: number };
      metrics: { e2e?: { p50: number; p99: number } };
    };
    process.stderr.write(
      `round ${rep + 1}/${runs}, ${n} shard(s): sent ${r.counters.sent}, lost ${r.counters.lost}, e2e p50 ${r.metrics.e2e?.p50} p99 ${r.metrics.e2e?.p99} ms\n`,
    );
  }

const baseline = files.get(counts[0] ?? 1) ?? [];
const rows: Array<Record<string, unknown>> = [];
for (const n of counts.slice(1)) {
  const cmpDir = path.join(out, `compare-1-vs-${n}`);
  const r = await cutover([
    "compare",
    "--baseline",
    ...baseline,
    "--candidate",
    ...(files.get(n) ?? []),
    "--out",
    cmpDir,
  ]);
  if (![0, 99].includes(r.code))
    throw new Error(`compare 1 vs ${n}: exit ${r.code}\n${r.output.slice(-1500)}`);
  const cmp = comparisonResultsSchema.parse(
    JSON.parse(readFileSync(path.join(cmpDir, "comparison.json"), "utf8")),
  );
  for (const m of cmp.metrics.filter((x) => /^(e2e|ack)\.(p50|p99)$/.test(x.metric)))
    rows.push({
      shards: n,
      metric: m.metric,
      oneProcessMedian: m.baseline.median,
      shardedMedian: m.candidate.median,
      change: m.change,
      p: m.p,
      verdict: m.verdict,
    });
}
const summary = {
  kind: "cutover-bench-shards",
  createdAt: new Date().toISOString(),
  parameters: { ...args, runs },
  files: Object.fromEntries(files),
  comparisons: rows,
};
writeFileSync(path.join(out, "shards.json"), `${JSON.stringify(summary, null, 2)}\n`);
const fmt = (v: unknown) => (typeof v === "number" ? (Math.round(v * 100) / 100).toString() : String(v));
process.stdout.write(
  `| shards | metric | 1 process (median ms) | sharded (median ms) | change | p | verdict |\n|---|---|---|---|---|---|---|\n${rows
    .map(
      (r) =>
        `| ${r.shards} | ${r.metric} | ${fmt(r.oneProcessMedian)} | ${fmt(r.shardedMedian)} | ${r.change === null ? "—" : `${fmt((r.change as number) * 100)}%`} | ${fmt(r.p)} | ${r.verdict} |`,
    )
    .join("\n")}\nresults in ${out}\n`,
);
