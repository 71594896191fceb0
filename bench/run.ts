/**
 * `npm run bench`: what the generator itself costs on this machine, beside a bare `ws`
 * generator on the same target in the same run (the ceiling).
 *
 *   node --expose-gc --import tsx bench/run.ts [--run-dir DIR] [--rate 300] [--duration 10s] [--users 100]
 *        [--idle 2000] [--skip-accuracy] [--out FILE]
 *
 * Measures, each in this process so process.cpuUsage() sees all of it:
 *   1. engine alone: the full engine (scheduler, stamping, ledger, HDR) against an in-memory stack;
 *   2. cutover: the full engine + OpenIM protocol (openim-direct driver) at a fixed rate;
 *   3. bare ws: pre-built SendMsg frames at the same rate to the same gateway, replies only counted;
 *   4. RSS per idle connection: cutover sessions vs bare sockets, after GC;
 *   5. accuracy: a known 5 ms of Toxiproxy latency, and a known 1 s stall (open vs closed model).
 * Writes a results file (bench/results/<time>.json unless --out).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseConfig } from "../src/config/load.js";
import { createDriver } from "../src/load/driver-factory.js";
import { parseDuration } from "../src/load/duration.js";
import { LoadSession } from "../src/load/engine.js";
import { FakeChatStack } from "../src/load/fake-driver.js";
import { normalizeModel } from "../src/load/model.js";
import type { ResolvedScenario } from "../src/load/scenario.js";
import { newHistogram, summarize } from "../src/metrics/histogram.js";
import {
  createRestClient,
  getAdminToken,
  getUserToken,
  registerUsers,
  uniqueUserID,
} from "../src/protocol/index.js";
import { outputLocations } from "../src/run/output-locations.js";
import type { StackEndpoints } from "../src/stack/endpoints.js";
import { runDirLayout } from "../src/stack/local/layout.js";
import { downLocal, upLocal } from "../src/stack/local/local-stack.js";
import { readState } from "../src/stack/local/state.js";
import { latencyAccuracy, latencyAccuracyBare, stallAccuracy } from "./accuracy.js";
import { type BareUser, connectBare, runBare } from "./bare-ws-generator.js";

const { values: args } = parseArgs({
  options: {
    "run-dir": { type: "string" },
    rate: { type: "string", default: "300" },
    duration: { type: "string", default: "10s" },
    users: { type: "string", default: "100" },
    idle: { type: "string", default: "2000" },
    "skip-accuracy": { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const rate = Number(args.rate);
const durationMs = parseDuration(args.duration ?? "10s") ?? 10_000;
const users = Number(args.users);
const idle = Number(args.idle);
const log = (line: string) => process.stderr.write(`${line}\n`);
const gc = (globalThis as { gc?: () => void }).gc;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
};

const chat: ResolvedScenario = {
  name: "bench-direct-chat",
  options: { model: { kind: "constant-arrival-rate", rate, duration: durationMs }, users },
  fn: async (vu) => {
    await vu.sendText(vu.peer(), vu.payload(250));
  },
};

async function engineAlone() {
  const fake = new FakeChatStack({ latencyMs: 1 });
  const { phase: r } = await LoadSession.once(
    {
      scenario: chat,
      endpoints: {} as StackEndpoints,
      driver: { name: "fake" },
      driverInstance: () => fake.driver(),
      users,
      topology: { kind: "pairs" },
      connectAtSetup: true,
      maxInFlightPerUser: 64,
    },
    { model: normalizeModel(chat.options.model), drainMs: 2000 },
  );
  return perMessage(
    "engine alone (in-memory stack)",
    r.generator.cpuSeconds,
    r.counters.sent,
    r.counters.delivered,
    r,
  );
}

async function cutover(endpoints: StackEndpoints) {
  const { phase: r } = await LoadSession.once(
    {
      scenario: chat,
      endpoints,
      driver: { name: "openim-direct" },
      workers: 0,
      users,
      topology: { kind: "pairs" },
      connectAtSetup: true,
      maxInFlightPerUser: 64,
    },
    { model: normalizeModel(chat.options.model), drainMs: 15_000 },
  );
  return perMessage(
    "cutover (openim-direct, full protocol)",
    r.generator.cpuSeconds,
    r.counters.sent,
    r.counters.delivered,
    r,
  );
}

function perMessage(
  name: string,
  cpuSeconds: number,
  sent: number,
  received: number,
  r?: Awaited<ReturnType<LoadSession["runPhase"]>>,
) {
  const messages = sent + received;
  return {
    name,
    sent,
    received,
    cpuSeconds: round(cpuSeconds, 3),
    cpuSecondsPerThousandMessages: messages > 0 ? round((cpuSeconds / messages) * 1000, 4) : null,
    cpuMicrosPerMessage: messages > 0 ? round((cpuSeconds / messages) * 1e6, 1) : null,
    // Like for like: every sent message brings the same frames back to both generators (ack,
    // push to the peer, OpenIM's echo to the sender), whatever each of them counts as received.
    cpuMicrosPerSentMessage: sent > 0 ? round((cpuSeconds / sent) * 1e6, 1) : null,
    ...(r
      ? {
          lost: r.counters.lost,
          dropped: r.counters.droppedIterations,
          ack: pick(summarize(r.histograms.get("ack") ?? newHistogram())),
          e2e: pick(summarize(r.histograms.get("e2e") ?? newHistogram())),
        }
      : {}),
  };
}

const pick = (s: ReturnType<typeof summarize>) => ({ p50: s.p50, p99: s.p99, max: s.max });
const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

async function bareUsers(endpoints: StackEndpoints, n: number): Promise<BareUser[]> {
  const rest = createRestClient({ baseUrl: endpoints.openimApi });
  try {
    const { token: admin } = await getAdminToken(rest, endpoints.adminSecret, endpoints.adminUserID);
    const ids = Array.from({ length: n }, () => uniqueUserID("bare"));
    for (let i = 0; i < ids.length; i += 1000)
      await registerUsers(
        rest,
        admin,
        ids.slice(i, i + 1000).map((userID) => ({ userID })),
      );
    const out: BareUser[] = [];
    for (const userID of ids) out.push({ userID, token: (await getUserToken(rest, admin, userID, 3)).token });
    return out;
  } finally {
    await rest.close();
  }
}

async function bare(endpoints: StackEndpoints) {
  const counter = { inbound: 0 };
  const list = await bareUsers(endpoints, users);
  const sockets = await connectBare(endpoints.openimWs, list, () => {
    counter.inbound++;
  });
  const r = await runBare(sockets, list, rate, durationMs, counter);
  for (const s of sockets) s.terminate();
  // Every request is answered once; the rest of what came back are pushes (to the peer, and OpenIM's echo to the sender).
  return perMessage(
    "bare ws (pre-built frames, replies only counted)",
    r.cpuSeconds,
    r.sent,
    Math.max(0, r.inboundFrames - r.sent),
  );
}

async function idleRss(endpoints: StackEndpoints) {
  if (idle <= 0) return null;
  await settle();
  const before = process.memoryUsage().rss;
  const session = await LoadSession.open({
    scenario: { ...chat, name: "bench-idle" },
    endpoints,
    driver: { name: "openim-direct" },
    workers: 0,
    users: idle,
    topology: { kind: "solo" },
    connectAtSetup: true,
    maxInFlightPerUser: 1,
    setupConcurrency: 16,
  });
  await settle();
  const cutoverBytes = (process.memoryUsage().rss - before) / idle;
  const connected = session.setup.counters.connects;
  await session.close();
  await settle();
  const list = await bareUsers(endpoints, idle);
  const before2 = process.memoryUsage().rss;
  const sockets = await connectBare(endpoints.openimWs, list, () => {});
  await settle();
  const bareBytes = (process.memoryUsage().rss - before2) / idle;
  for (const s of sockets) s.terminate();
  return {
    connections: idle,
    cutoverConnected: connected,
    target: "OpenIM message gateway (local stack)",
    cutoverBytesPerConnection: Math.round(cutoverBytes),
    bareWsBytesPerConnection: Math.round(bareBytes),
    note: "process RSS growth over the connections, after GC; includes each user's token and session state",
  };
}

async function main() {
  const runDir =
    args["run-dir"] ?? process.env.CUTOVER_RUN_DIR ?? path.join(os.tmpdir(), "cutover-bench-stack");
  const up = await upLocal({ config: parseConfig({}), runDir, progress: () => {} });
  log(`stack: ${up.kind} in ${runDir}`);
  try {
    // Warm the driver path once (JIT, pools) so the first measured generator is not penalised.
    const warm = await createDriver({ name: "openim-direct" }, up.endpoints);
    await warm.createUsers(2, "warm");
    await warm.close();
    log(`engine alone at ${rate}/s …`);
    const alone = await engineAlone();
    log(`cutover at ${rate}/s …`);
    const full = await cutover(up.endpoints);
    log(`bare ws at ${rate}/s …`);
    const ceiling = await bare(up.endpoints);
    log(`${idle} idle connections each way …`);
    const rss = await idleRss(up.endpoints);
    const processes = readState(runDirLayout(runDir).state)?.processes ?? [];
    let accuracy: unknown = null;
    if (!args["skip-accuracy"]) {
      log("accuracy: 5 ms Toxiproxy latency to a no-work chat server …");
      const latencyBare = await latencyAccuracyBare();
      log("accuracy: 5 ms Toxiproxy latency to OpenIM (alternating runs) …");
      const latency = await latencyAccuracy(up.endpoints, processes);
      log("accuracy: 1 s SIGSTOP stall, open vs closed model …");
      const stall = await stallAccuracy(up.endpoints, processes);
      accuracy = { latencyBare, latency, stall };
    }
    const results = {
      kind: "cutover-bench",
      version: 1,
      at: new Date().toISOString(),
      host: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "",
        loadAverage: os.loadavg(),
        node: process.version,
      },
      parameters: { rate, durationMs, users, idleConnections: idle, gcExposed: gc !== undefined },
      generators: [alone, full, ceiling],
      /** Generator CPU per sent message, cutover over bare ws (the aim: ≤ 1.5). */
      ratioToBareWs:
        full.cpuMicrosPerSentMessage && ceiling.cpuMicrosPerSentMessage
          ? round(full.cpuMicrosPerSentMessage / ceiling.cpuMicrosPerSentMessage, 2)
          : null,
      idleConnections: rss,
      accuracy,
      caveats: [
        "the generator shares this machine with the stack (and with whatever else runs here): compare the rows of one run, not runs of different days",
      ],
    };
    const out =
      args.out ??
      path.join(outputLocations.benchResults, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    log(`bench results: ${out}`);
  } finally {
    if (up.kind === "started") await downLocal(runDir);
  }
}

await main();
