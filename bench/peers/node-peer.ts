/**
 * One Node generator in a process of its own, so the parent reads its CPU and memory from
 * /proc exactly as it reads Artillery's and Tsung's:
 *
 *   node --import tsx bench/peers/node-peer.ts JOB.json
 *
 * The job says which generator (cutover's engine, the bare `ws` script, cutover's rest-send,
 * bare autocannon), the target and the workload.
 * Setup (users, logins, connections) happens first; then the tool says it is ready and waits
 * for the start instant (measure.ts). After the schedule and its drain the process stays until
 * the window's end, so the parent's last CPU reading finds it.
 * Prints one JSON line: what the generator itself could say (sent, received, latencies).
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import type WebSocket from "ws";
import { LoadSession } from "../../src/load/engine.js";
import { runHttpLoad } from "../../src/load/http-load.js";
import { normalizeModel } from "../../src/load/model.js";
import type { ResolvedScenario } from "../../src/load/scenario.js";
import type { HttpPlan } from "../../src/load/scenario-contract.js";
import { newHistogram, summarize } from "../../src/metrics/histogram.js";
import type { StackEndpoints } from "../../src/stack/endpoints.js";
import { connectBare, runBare } from "../bare-ws-generator.js";
import { readyThenWaitForGo } from "./measure.js";
import type { MintedUser, Workload } from "./workload.js";

export type NodePeerJob =
  | {
      tool: "cutover-ws";
      endpoints: StackEndpoints;
      workload: Workload;
      sync: PeerSync;
    }
  | {
      tool: "bare-ws";
      endpoints: StackEndpoints;
      workload: Workload;
      users: MintedUser[];
      sync: PeerSync;
    }
  | {
      tool: "cutover-rest";
      plan: HttpPlan;
      workload: Workload;
      sync: PeerSync;
    }
  | {
      tool: "autocannon";
      plan: HttpPlan;
      workload: Workload;
      sync: PeerSync;
    };

/** The files the parent and the tool meet at: the tool says it is ready, the parent gives the start instant. */
export interface PeerSync {
  readyFile: string;
  goFile: string;
  timeoutMs: number;
}

const waitForGo = (sync: PeerSync) => readyThenWaitForGo(sync.readyFile, sync.goFile, sync.timeoutMs);

/** What a generator reported about itself; the parent adds CPU and RSS from /proc. */
export interface NodePeerReport {
  sent: number;
  /** Frames or responses that came back, as far as the generator counts them. */
  received: number | null;
  /** Sent over the time the sends took (first intended send to last actual send, at least the schedule). */
  sendSeconds: number;
  /** The generator's own CPU over its measured phase (process.cpuUsage), beside the parent's /proc reading. */
  selfCpuSeconds: number;
  scheduleLateMs: number;
  startAtMs: number;
  latencies: Record<string, { p50: number; p99: number; max: number; mean?: number }>;
  errors: Record<string, number>;
  notes: string[];
}

const sleepUntil = (atMs: number) => new Promise((r) => setTimeout(r, Math.max(0, atMs - Date.now())));
const pick = (s: ReturnType<typeof summarize>) => ({ p50: s.p50, p99: s.p99, max: s.max, mean: s.mean });

async function cutoverWs(job: Extract<NodePeerJob, { tool: "cutover-ws" }>): Promise<NodePeerReport> {
  const w = job.workload;
  const chat: ResolvedScenario = {
    name: "peers-direct-chat",
    options: {
      model: { kind: "constant-arrival-rate", rate: w.rate, duration: w.durationMs },
      users: w.users,
    },
    fn: async (vu) => {
      await vu.sendText(vu.peer(), vu.payload(w.textChars));
    },
  };
  let scheduledAt = 0;
  const session = await LoadSession.open({
    scenario: chat,
    endpoints: job.endpoints,
    driver: { name: "openim-direct" },
    workers: 0,
    users: w.users,
    topology: { kind: "pairs" },
    connectAtSetup: true,
    maxInFlightPerUser: 64,
  });
  let phase: Awaited<ReturnType<LoadSession["runPhase"]>>;
  let startAtMs: number;
  try {
    startAtMs = await waitForGo(job.sync);
    phase = await session.runPhase({
      model: normalizeModel(chat.options.model),
      drainMs: w.drainMs,
      startAtMs,
      onScheduleStart: (at) => {
        scheduledAt = at;
      },
    });
  } finally {
    await session.close();
  }
  const latencies: NodePeerReport["latencies"] = {};
  for (const name of ["ack", "e2e"])
    latencies[name] = pick(summarize(phase.histograms.get(name) ?? newHistogram()));
  const c = phase.counters;
  return {
    sent: c.sent,
    received: c.acked + c.delivered,
    sendSeconds: Math.max(w.durationMs, phase.scheduleMs) / 1000,
    selfCpuSeconds: phase.generator.cpuSeconds,
    scheduleLateMs: Math.max(0, scheduledAt - startAtMs),
    startAtMs,
    latencies,
    errors: {
      ...phase.errors,
      ...(c.droppedIterations > 0 ? { droppedIterations: c.droppedIterations } : {}),
    },
    notes: [
      `openim-direct driver, 1 thread (workers: 0), ledger + HDR on; lost ${c.lost}, delivered ${c.delivered} of ${c.sent}`,
    ],
  };
}

async function bareWs(job: Extract<NodePeerJob, { tool: "bare-ws" }>): Promise<NodePeerReport> {
  const w = job.workload;
  const counter = { inbound: 0 };
  const sockets = await connectBare(job.endpoints.openimWs, job.users, () => {
    counter.inbound++;
  });
  // The one thing added to the bare script: when its last frame went out (a clock read per send).
  let firstSend = 0;
  let lastSend = 0;
  for (const s of sockets) {
    const send = s.send.bind(s) as (data: Buffer) => void;
    (s as unknown as { send: (data: Buffer) => void }).send = (data: Buffer) => {
      lastSend = performance.now();
      if (firstSend === 0) firstSend = lastSend;
      send(data);
    };
  }
  const startAtMs = await waitForGo(job.sync);
  // runBare starts its schedule 50 ms after it is called.
  await sleepUntil(startAtMs - 50);
  const calledAt = Date.now();
  const r = await runBare(sockets, job.users, w.rate, w.durationMs, counter);
  for (const s of sockets as WebSocket[]) s.terminate();
  const span = lastSend - firstSend + 1000 / w.rate;
  return {
    sent: r.sent,
    received: r.inboundFrames,
    sendSeconds: Math.max(w.durationMs, span) / 1000,
    selfCpuSeconds: r.cpuSeconds,
    scheduleLateMs: Math.max(0, calledAt + 50 - startAtMs),
    startAtMs,
    latencies: {},
    errors: {},
    notes: ["counts inbound frames only (acks and pushes), decodes nothing: no latency"],
  };
}

async function cutoverRest(job: Extract<NodePeerJob, { tool: "cutover-rest" }>): Promise<NodePeerReport> {
  const w = job.workload;
  const startAtMs = await waitForGo(job.sync);
  await sleepUntil(startAtMs);
  const phase = await runHttpLoad({
    plan: job.plan,
    model: normalizeModel({ kind: "constant-arrival-rate", rate: w.rate, duration: w.durationMs }),
    intervalMs: 1000,
    stopped: () => false,
  });
  return {
    sent: phase.counters.httpRequests,
    received: phase.counters.httpRequests - phase.counters.httpErrors,
    sendSeconds: Math.max(w.durationMs, phase.elapsedMs) / 1000,
    selfCpuSeconds: phase.generator.cpuSeconds,
    scheduleLateMs: 0,
    startAtMs,
    latencies: { http: pick(summarize(phase.histograms.get("http") ?? newHistogram())) },
    errors: phase.errors,
    notes: [
      "scenarios/rest-send.ts's request through cutover's HTTP path (autocannon + HDR + envelope check)",
    ],
  };
}

async function bareAutocannon(job: Extract<NodePeerJob, { tool: "autocannon" }>): Promise<NodePeerReport> {
  const w = job.workload;
  const plan = job.plan;
  const startAtMs = await waitForGo(job.sync);
  await sleepUntil(startAtMs);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await autocannon({
    url: plan.url,
    method: plan.method ?? "POST",
    headers: { "content-type": "application/json", ...plan.headers },
    ...(plan.body !== undefined ? { body: plan.body } : {}),
    idReplacement: true,
    connections: plan.connections ?? 10,
    overallRate: w.rate,
    duration: w.durationMs / 1000,
    timeout: 10,
  });
  const cpu = process.cpuUsage(cpu0);
  const l = result.latency;
  return {
    sent: result.requests.sent,
    received: result.requests.total,
    sendSeconds: Math.max(w.durationMs, performance.now() - t0) / 1000,
    selfCpuSeconds: (cpu.user + cpu.system) / 1e6,
    scheduleLateMs: 0,
    startAtMs,
    latencies: { http: { p50: l.p50, p99: l.p99, max: l.max, mean: l.mean } },
    errors: {
      ...(result.errors > 0 ? { errors: result.errors } : {}),
      ...(result.non2xx > 0 ? { non2xx: result.non2xx } : {}),
      ...(result.timeouts > 0 ? { timeouts: result.timeouts } : {}),
    },
    notes: [
      "autocannon's own programmatic API, the same request and options, no body check (an OpenIM errCode in a 200 is not seen)",
    ],
  };
}

async function main() {
  const file = process.argv[2];
  if (!file) throw new Error("usage: node-peer.ts JOB.json");
  const job = JSON.parse(readFileSync(file, "utf8")) as NodePeerJob;
  const report =
    job.tool === "cutover-ws"
      ? await cutoverWs(job)
      : job.tool === "bare-ws"
        ? await bareWs(job)
        : job.tool === "cutover-rest"
          ? await cutoverRest(job)
          : await bareAutocannon(job);
  // Alive until the parent's last CPU reading of the window (start + schedule + drain).
  await sleepUntil(report.startAtMs + job.workload.durationMs + job.workload.drainMs + 500);
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}

await main();
