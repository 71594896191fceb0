/**
 * `npm run bench:peers`: the same direct-chat workload (same OpenIM frames, rate, users and
 * pairs) from cutover, the bare `ws` script, Artillery and Tsung, first against the no-work
 * OpenIM-framed server, then against the real OpenIM local stack; and the REST path, bare
 * autocannon against cutover's rest-send. Each generator runs as its own process; its CPU and
 * memory are read from /proc the same way for all.
 *
 *   node --import tsx bench/peers/run.ts [--run-dir DIR] [--rate 200] [--duration 10s] [--users 100]
 *        [--drain 3s] [--setup-timeout 120s] [--pause 15s] [--targets no-work,openim]
 *        [--tools cutover,bare,artillery,tsung,tsung-parse,tsung-fullstats,rest] [--out FILE]
 *
 * Writes bench/results/peers-<time>.json and bench/results/peers-latest.md.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseConfig } from "../../src/config/load.js";
import { parseDuration } from "../../src/load/duration.js";
import { httpContext } from "../../src/load/http-context.js";
import { loadScenario } from "../../src/load/scenario.js";
import type { HttpPlan } from "../../src/load/scenario-contract.js";
import { outputLocations } from "../../src/run/output-locations.js";
import type { StackEndpoints } from "../../src/stack/endpoints.js";
import { downLocal, upLocal } from "../../src/stack/local/local-stack.js";
import { ensureArtillery, runArtillery } from "./artillery.js";
import { measureChild } from "./measure.js";
import type { NodePeerJob, NodePeerReport } from "./node-peer.js";
import { type DerivedRow, derive, type PeerRow } from "./row.js";
import { markdownTable, type PeersResults } from "./table.js";
import { ensureTsung, runTsung } from "./tsung.js";
import { frameUsers, mintUsers, type Target, type Workload } from "./workload.js";

const TOOLS = ["cutover", "bare", "artillery", "tsung", "tsung-parse", "tsung-fullstats", "rest"] as const;
type Tool = (typeof TOOLS)[number];

const { values: args } = parseArgs({
  options: {
    "run-dir": { type: "string" },
    rate: { type: "string", default: "200" },
    duration: { type: "string", default: "10s" },
    users: { type: "string", default: "100" },
    drain: { type: "string", default: "3s" },
    "setup-timeout": { type: "string", default: "120s" },
    pause: { type: "string", default: "15s" },
    targets: { type: "string", default: "no-work,openim" },
    tools: { type: "string", default: TOOLS.join(",") },
    out: { type: "string" },
  },
});

const log = (line: string) => process.stderr.write(`${line}\n`);
const here = path.dirname(fileURLToPath(import.meta.url));
const benchDir = path.dirname(here);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function usage(message: string): never {
  log(`bench:peers: ${message}`);
  process.exit(2);
}

const workload: Workload = {
  rate: Number(args.rate),
  durationMs: parseDuration(args.duration ?? "10s") ?? usage(`--duration ${args.duration}: not a duration`),
  users: Number(args.users),
  drainMs: parseDuration(args.drain ?? "3s") ?? usage(`--drain ${args.drain}: not a duration`),
  textChars: 250,
};
const setupTimeoutMs =
  parseDuration(args["setup-timeout"] ?? "120s") ??
  usage(`--setup-timeout ${args["setup-timeout"]}: not a duration`);
if (!(workload.rate > 0 && workload.users >= 2 && workload.users % 2 === 0))
  usage("--rate must be > 0 and --users an even number ≥ 2 (users are paired)");
const tools = (args.tools ?? "").split(",").filter((t) => t !== "") as Tool[];
for (const t of tools)
  if (!TOOLS.includes(t)) usage(`--tools: unknown tool ${t} (known: ${TOOLS.join(", ")})`);
const targetNames = (args.targets ?? "").split(",").filter((t) => t !== "");
for (const t of targetNames) if (t !== "no-work" && t !== "openim") usage(`--targets: unknown target ${t}`);

const workDir = mkdtempSync(path.join(os.tmpdir(), "cutover-peers-"));

/** Where a tool and this process meet (measure.ts): it says it is ready, we give the start instant. */
function sync(name: string) {
  mkdirSync(path.join(workDir, name), { recursive: true });
  return {
    readyFile: path.join(workDir, name, "ready"),
    goFile: path.join(workDir, name, "go"),
    timeoutMs: setupTimeoutMs + 30_000,
  };
}
const windowMs = workload.durationMs + workload.drainMs;
const pauseMs = parseDuration(args.pause ?? "15s") ?? usage(`--pause ${args.pause}: not a duration`);

async function nodePeer(
  tool: string,
  target: Target,
  pathKind: "ws" | "rest",
  job: NodePeerJob,
  latencyNote: string,
  note?: string,
): Promise<PeerRow> {
  const file = path.join(workDir, `${job.tool}-${target.name}`, "job.json");
  writeFileSync(file, JSON.stringify(job));
  const m = await measureChild({
    command: process.execPath,
    args: ["--import", "tsx", path.join(here, "node-peer.ts"), file],
    readyFile: job.sync.readyFile,
    readyCount: 1,
    goFile: job.sync.goFile,
    windowMs,
    readyTimeoutMs: setupTimeoutMs,
    exitGraceMs: 60_000,
    onLine: (line) => log(`  ${tool}: ${line}`),
  });
  const last = m.stdout.trim().split("\n").at(-1) ?? "";
  let report: NodePeerReport;
  try {
    report = JSON.parse(last) as NodePeerReport;
  } catch {
    throw new Error(
      `${tool} against ${target.name} gave no report (exit ${m.exitCode}): ${m.stderr.slice(-800)}`,
    );
  }
  return {
    tool,
    target: target.name,
    path: pathKind,
    intendedRate: workload.rate,
    sent: report.sent,
    received: report.received,
    sendSeconds: report.sendSeconds,
    windowCpuSeconds: m.windowCpuSeconds,
    totalCpuSeconds: m.totalCpuSeconds,
    peakRssBytes: m.peakRssBytes,
    latencies: report.latencies,
    latencyNote,
    errors: report.errors,
    notes: [
      ...report.notes,
      ...(note ? [note] : []),
      ...(report.scheduleLateMs > 50
        ? [`schedule started ${report.scheduleLateMs} ms late (setup overran --lead)`]
        : []),
    ],
    selfCpuSeconds: report.selfCpuSeconds,
  };
}

const REST_CAP =
  "autocannon's overallRate over the scenario's 10 connections, one request in flight on each (no pipelining): at most 10 ÷ latency requests a second, so an OpenIM answering in ~70–100 ms caps it near 100/s";

async function restPlan(endpoints: StackEndpoints): Promise<HttpPlan> {
  const scenario = await loadScenario("rest-send");
  if (!scenario.http) throw new Error("scenarios/rest-send.ts exports no http(ctx)");
  const ctx = httpContext(endpoints);
  try {
    return await scenario.http(ctx);
  } finally {
    await ctx.close();
  }
}

async function runTool(tool: Tool, target: Target): Promise<PeerRow[]> {
  const dir = path.join(workDir, `${tool}-${target.name}`);
  switch (tool) {
    case "cutover":
      return [
        await nodePeer(
          "cutover (engine, openim-direct)",
          target,
          "ws",
          {
            tool: "cutover-ws",
            endpoints: target.endpoints,
            workload,
            sync: sync(`cutover-ws-${target.name}`),
          },
          "send→ack and end-to-end, HDR percentiles from intended send times",
        ),
      ];
    case "bare": {
      const users = await mintUsers(target.endpoints, workload.users, "peers_bare");
      return [
        await nodePeer(
          "bare ws script",
          target,
          "ws",
          {
            tool: "bare-ws",
            endpoints: target.endpoints,
            workload,
            users,
            sync: sync(`bare-ws-${target.name}`),
          },
          "none: it only counts inbound frames",
        ),
      ];
    }
    case "artillery": {
      const users = frameUsers(
        target,
        workload,
        await mintUsers(target.endpoints, workload.users, "peers_art"),
      );
      return [await runArtillery({ target, workload, users, dir, setupTimeoutMs, log })];
    }
    case "tsung":
    case "tsung-parse":
    case "tsung-fullstats": {
      const users = frameUsers(
        target,
        workload,
        await mintUsers(target.endpoints, workload.users, "peers_tsung"),
      );
      const mode = {
        ack: tool === "tsung" ? "no_ack" : "parse",
        fullstats: tool === "tsung-fullstats",
      } as const;
      return [await runTsung({ target, workload, users, dir, setupTimeoutMs, mode, log })];
    }
    case "rest": {
      if (target.name !== "openim") return [];
      const plan = await restPlan(target.endpoints);
      const cutover = await nodePeer(
        "cutover rest-send (autocannon inside)",
        target,
        "rest",
        { tool: "cutover-rest", plan, workload, sync: sync(`cutover-rest-${target.name}`) },
        "per-response time into an HDR histogram (from actual send: autocannon's pacing)",
        REST_CAP,
      );
      await sleep(2000);
      const bare = await nodePeer(
        "autocannon 8 (API, bare)",
        target,
        "rest",
        { tool: "autocannon", plan, workload, sync: sync(`autocannon-${target.name}`) },
        "autocannon's own histogram: p2.5…p99.9, mean, max (from actual send)",
        REST_CAP,
      );
      return [cutover, bare];
    }
  }
}

/** The no-work server in its own process (bench/no-work-openim-main.ts), so its CPU is billed to nobody. */
async function startNoWork(): Promise<{ target: Target; stop: () => Promise<void> } | undefined> {
  const main = path.join(benchDir, "no-work-openim-main.ts");
  if (!existsSync(main)) return undefined;
  const { noWorkEndpoints } = (await import(path.join(benchDir, "no-work-openim.ts"))) as {
    noWorkEndpoints: (s: { wsURL: string; apiURL: string }) => StackEndpoints;
  };
  const child = spawn(process.execPath, ["--import", "tsx", main, "--max-minutes", "30"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("the no-work server did not start in 30 s")), 30_000);
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    child.once("exit", (code) => reject(new Error(`the no-work server exited (${code})`)));
  });
  const info = JSON.parse(line) as { wsURL: string; apiURL: string };
  log(`no-work server: ${info.wsURL} (pid ${child.pid})`);
  return {
    target: {
      name: "no-work",
      label: "no-work OpenIM-framed server (bench/no-work-openim.ts)",
      endpoints: noWorkEndpoints(info),
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([gone, sleep(5000)]);
    },
  };
}

async function main() {
  log(
    `bench:peers: ${tools.join(", ")} against ${targetNames.join(", ")}; ${workload.rate}/s for ${workload.durationMs / 1000} s, ${workload.users} users; work folder ${workDir}`,
  );
  if (tools.includes("artillery")) ensureArtillery(log);
  if (tools.some((t) => t.startsWith("tsung"))) ensureTsung(log);
  const rows: DerivedRow[] = [];
  const skipped: PeersResults["skipped"] = [];
  const targets: Target[] = [];
  const runOn = async (target: Target) => {
    targets.push(target);
    for (const tool of tools) {
      log(`${tool} → ${target.name} …`);
      try {
        for (const r of await runTool(tool, target)) {
          const d = derive(r);
          rows.push(d);
          log(
            `  ${d.tool}: sent ${d.sent}, achieved ${d.achievedRate ?? "?"}/s, ${d.cpuMicrosPerSentMessage ?? "?"} µs CPU per sent message, RSS ${(d.peakRssBytes / 1048576).toFixed(0)} MB${Object.keys(d.errors).length > 0 ? `, errors ${JSON.stringify(d.errors)}` : ""}`,
          );
        }
      } catch (err) {
        const why = (err as Error).message.split("\n")[0] ?? String(err);
        log(`  ${tool} against ${target.name} failed: ${why}`);
        skipped.push({ what: `${tool} against ${target.name}`, why });
      }
      // Let the target finish what is still in flight before the next tool starts: an OpenIM
      // past its capacity works off a backlog for seconds after the last send.
      await sleep(target.name === "openim" ? pauseMs : 1000);
    }
  };

  if (targetNames.includes("no-work")) {
    const noWork = await startNoWork();
    if (!noWork)
      skipped.push({
        what: "every tool against the no-work server",
        why: "bench/no-work-openim-main.ts is not in this checkout",
      });
    else {
      try {
        await runOn(noWork.target);
      } finally {
        await noWork.stop();
      }
      if (tools.includes("rest"))
        skipped.push({
          what: "REST against the no-work server",
          why: "it serves only the REST routes the openim-direct driver needs, not msg/send_msg",
        });
    }
  }
  if (targetNames.includes("openim")) {
    const runDir = args["run-dir"] ?? path.join(os.tmpdir(), "cutover-peers-stack");
    log(`OpenIM local stack in ${runDir} …`);
    const up = await upLocal({ config: parseConfig({}), runDir, progress: () => {} });
    log(`stack: ${up.kind}`);
    try {
      await runOn({
        name: "openim",
        label: "OpenIM v3.8.3 local stack (msg gateway direct)",
        endpoints: up.endpoints,
      });
    } finally {
      if (up.kind === "started") await downLocal(runDir);
    }
  }

  const at = new Date().toISOString();
  const results: PeersResults & { kind: string; version: number; workDir: string } = {
    kind: "cutover-bench-peers",
    version: 1,
    at,
    host: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "",
      node: process.version,
      loadAverage: os.loadavg(),
    },
    parameters: workload,
    targets: targets.map((t) => ({ name: t.name, label: t.label })),
    rows,
    skipped,
    caveats: [
      "every generator shares the machine with the target (and with whatever else runs here): compare the rows of one run, not runs of different days",
      "received frames differ by what each tool counts; every sent message brings the same frames back to every tool (ack, push to the peer), so CPU per sent message is the like-for-like column",
      "OpenIM on this machine is past its capacity at a few hundred messages a second (see cutover's ack times): what comes back within the drain, and the backlog left for the next tool despite the pause between tools, vary from row to row",
      "cutover and bare ws keep an open-loop schedule (a late send goes out at once, timed from its intended instant); Artillery and Tsung pace each user by send + think, so a slow send or reply delays the next one",
    ],
    workDir,
  };
  const out = args.out ?? path.join(outputLocations.benchResults, `peers-${at.replace(/[:.]/g, "-")}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  const md = path.join(path.dirname(out), "peers-latest.md");
  writeFileSync(md, markdownTable(results));
  process.stdout.write(markdownTable(results));
  log(`bench:peers results: ${out} and ${md}; tools' own files in ${workDir}`);
}

await main();
