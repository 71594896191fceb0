import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { measureChild } from "./measure.js";
import type { PeerRow } from "./row.js";
import { type FramedUser, perUser, type Target, type Workload } from "./workload.js";

/**
 * Artillery 2.0.21 (the last release that runs on Node 20), its WebSocket engine: one virtual
 * user per chat user, arriving over the first seconds, each connecting to the gateway with
 * its own token (CSV payload, in order), then sending its pre-built SendMsg frame every
 * interval (a loop of a send and a think) from the shared start instant on.
 * Installed on first use into a cache folder outside the repository, never into package.json.
 */
export const ARTILLERY_VERSION = "2.0.21";
const here = path.dirname(fileURLToPath(import.meta.url));

export function artilleryHome(): string {
  return path.join(os.homedir(), ".cache", "cutover", `artillery-${ARTILLERY_VERSION}`);
}

function artilleryBin(): string {
  return path.join(artilleryHome(), "node_modules", "artillery", "bin", "run");
}

/** Installs Artillery into its cache folder when it is not there yet. */
export function ensureArtillery(log: (line: string) => void): string {
  const bin = artilleryBin();
  if (existsSync(bin)) return bin;
  const home = artilleryHome();
  mkdirSync(home, { recursive: true });
  log(`installing Artillery ${ARTILLERY_VERSION} into ${home} (npm, a few minutes; browsers skipped) …`);
  const r = spawnSync(
    "npm",
    [
      "install",
      "--prefix",
      home,
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `artillery@${ARTILLERY_VERSION}`,
    ],
    {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1" },
      timeout: 15 * 60_000,
    },
  );
  if (r.status !== 0 || !existsSync(bin))
    throw new Error(
      `npm install artillery@${ARTILLERY_VERSION} failed (exit ${r.status}): see the output above`,
    );
  log(`Artillery ${ARTILLERY_VERSION} installed`);
  return bin;
}

interface VuReport {
  index: number;
  sent: number;
  received: number;
  first: number;
  last: number;
  connectedAt: number;
}

export async function runArtillery(o: {
  target: Target;
  workload: Workload;
  users: FramedUser[];
  dir: string;
  setupTimeoutMs: number;
  log: (line: string) => void;
}): Promise<PeerRow> {
  const bin = ensureArtillery(o.log);
  const w = o.workload;
  const { intervalMs, messages } = perUser(w);
  mkdirSync(o.dir, { recursive: true });
  const csv = path.join(o.dir, "users.csv");
  writeFileSync(
    csv,
    o.users.map((u) => `${u.index},${u.url},${u.frame.toString("base64")},${u.offsetMs}`).join("\n"),
  );
  const reportFile = path.join(o.dir, "vus.jsonl");
  writeFileSync(reportFile, "");
  const script = {
    config: {
      target: o.target.endpoints.openimWs,
      phases: [{ duration: 2, arrivalCount: w.users, name: "connect every user" }],
      payload: {
        path: csv,
        fields: ["index", "url", "frame", "offsetMs"],
        order: "sequence",
        skipHeader: false,
      },
      processor: path.join(here, "artillery-processor.cjs"),
      // As the bare script dials: no permessage-deflate.
      ws: { perMessageDeflate: false },
    },
    scenarios: [
      {
        name: "direct chat",
        engine: "ws",
        flow: [
          { connect: "{{ url }}" },
          { function: "waitForStart" },
          { loop: [{ function: "sendFrame" }, { think: `${intervalMs}ms` }], count: messages },
          { think: `${w.drainMs}ms` },
          { function: "report" },
        ],
      },
    ],
  };
  const scriptFile = path.join(o.dir, "direct-chat.yml");
  writeFileSync(scriptFile, JSON.stringify(script, null, 2)); // JSON is YAML
  const out = path.join(o.dir, "report.json");
  const readyFile = path.join(o.dir, "ready");
  const goFile = path.join(o.dir, "go");
  const m = await measureChild({
    command: process.execPath,
    args: [bin, "run", "--output", out, scriptFile],
    cwd: o.dir,
    env: {
      ...process.env,
      ARTILLERY_DISABLE_TELEMETRY: "true",
      PEERS_READY_FILE: readyFile,
      PEERS_GO_FILE: goFile,
      PEERS_REPORT_FILE: reportFile,
    },
    readyFile,
    readyCount: w.users,
    goFile,
    windowMs: w.durationMs + w.drainMs,
    readyTimeoutMs: o.setupTimeoutMs,
    exitGraceMs: 60_000,
  });
  writeFileSync(path.join(o.dir, "stdout.txt"), m.stdout);
  writeFileSync(path.join(o.dir, "stderr.txt"), m.stderr);
  const vus = readFileSync(reportFile, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as VuReport);
  let aggregate: { counters?: Record<string, number>; summaries?: Record<string, unknown> } = {};
  try {
    aggregate = (JSON.parse(readFileSync(out, "utf8")) as { aggregate: typeof aggregate }).aggregate ?? {};
  } catch {
    // no report: the row says so below
  }
  const counters = aggregate.counters ?? {};
  const sent = counters["websocket.messages_sent"] ?? vus.reduce((a, v) => a + v.sent, 0);
  const first = Math.min(...vus.map((v) => v.first).filter((t) => t > 0));
  const last = Math.max(...vus.map((v) => v.last));
  const lateConnects = vus.filter(
    (v) => v.connectedAt > m.startAtMs + (o.users[v.index]?.offsetMs ?? 0),
  ).length;
  const summaries = Object.keys(aggregate.summaries ?? {});
  const errors: Record<string, number> = {};
  for (const [k, v] of Object.entries(counters)) if (k.startsWith("errors.")) errors[k.slice(7)] = v;
  if (m.exitCode !== 0) errors[`exit ${m.exitCode}`] = 1;
  return {
    tool: `Artillery ${ARTILLERY_VERSION} (ws engine)`,
    target: o.target.name,
    path: "ws",
    intendedRate: w.rate,
    sent,
    received: vus.reduce((a, v) => a + v.received, 0),
    sendSeconds: Number.isFinite(first)
      ? Math.max(w.durationMs, last - m.startAtMs + 1000 / w.rate) / 1000
      : null,
    windowCpuSeconds: m.windowCpuSeconds,
    totalCpuSeconds: m.totalCpuSeconds,
    peakRssBytes: m.peakRssBytes,
    latencies: {},
    latencyNote: `none for messages: the ws engine emits only counters and rates (websocket.messages_sent, send_rate); the report's summaries are [${summaries.join(", ")}]`,
    errors,
    notes: [
      `${vus.length} of ${w.users} virtual users finished; ${m.readyAtStart} connected when the start was given, ${lateConnects} after the start instant`,
      "a send is a processor function writing the pre-built frame as binary on the engine's socket (the send step sends text only)",
      "each user's cadence is send + think (a closed loop per user): a late send is not made up",
      "received = frames counted on each socket by the processor (Artillery counts none without capture/match)",
    ],
    artifacts: o.dir,
  };
}
