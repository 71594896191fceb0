/**
 * `npm run bench`: what the generator itself costs on this machine, beside a bare `ws`
 * generator on the same target in the same run (the ceiling).
 *
 *   node --expose-gc --import tsx bench/run.ts [--run-dir DIR] [--rate 300] [--duration 10s] [--users 100]
 *        [--rates 300,5000,20000] [--fanout-rate 100] [--idle 2000] [--skip-openim] [--skip-accuracy]
 *        [--skip-fanout] [--skip-max] [--only cutover|bare] [--out FILE]
 *
 * Measures, each in this process so process.cpuUsage() sees all of it:
 *   noWork: against the no-work OpenIM-framed server (bench/no-work-openim.ts, its own process), for
 *     each of --rates: cutover (full engine + openim-direct driver: protocol, ledger, stamping, HDR)
 *     and the bare `ws` script (pre-built frames, replies told apart only as push or answer), CPU
 *     per message (sent + received) and their ratio; the highest rate cutover holds with schedule
 *     lag p99 < 5 ms; a group fan-out row (50-member groups, CPU per received push);
 *   with OpenIM (unless --skip-openim; a local stack, started here or reused with --run-dir):
 *   1. engine alone: the full engine (scheduler, stamping, ledger, HDR) against an in-memory stack;
 *   2. cutover: the full engine + OpenIM protocol (openim-direct driver) at --rate;
 *   3. bare ws: pre-built SendMsg frames at the same rate to the same gateway, replies only counted;
 *   4. RSS per idle connection: cutover sessions vs bare sockets, after GC (no-work server with --skip-openim);
 *   5. accuracy: a known 5 ms of Toxiproxy latency, and a known 1 s stall (open vs closed model).
 * Every comparison is between rows of one run: the machine is shared, runs of different times are not comparable.
 * Writes a results file (bench/results/<time>.json unless --out).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { parseConfig } from "../src/config/load.js";
import { createDriver } from "../src/load/driver-factory.js";
import { parseDuration } from "../src/load/duration.js";
import { LoadSession, type PhaseResult } from "../src/load/engine.js";
import { FakeChatStack } from "../src/load/fake-driver.js";
import { normalizeModel } from "../src/load/model.js";
import type { ResolvedScenario } from "../src/load/scenario.js";
import type { TopologyInput } from "../src/load/topology.js";
import { newHistogram, summarize } from "../src/metrics/histogram.js";
import {
  createGroup,
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
import { latencyAccuracy, latencyAccuracyNoWork, stallAccuracyNoWork } from "./accuracy.js";
import {
  type BareTarget,
  type BareUser,
  connectBare,
  frameCounter,
  pairTargets,
  runBare,
} from "./bare-ws-generator.js";
import { noWorkEndpoints } from "./no-work-openim.js";
import { type NoWorkProcess, spawnNoWorkServer } from "./no-work-openim-process.js";

const { values: args } = parseArgs({
  options: {
    "run-dir": { type: "string" },
    rate: { type: "string", default: "300" },
    rates: { type: "string", default: "300,5000,20000" },
    duration: { type: "string", default: "10s" },
    users: { type: "string", default: "100" },
    idle: { type: "string", default: "2000" },
    "fanout-rate": { type: "string", default: "100" },
    "max-rate-cap": { type: "string", default: "60000" },
    "skip-openim": { type: "boolean", default: false },
    "skip-accuracy": { type: "boolean", default: false },
    "skip-fanout": { type: "boolean", default: false },
    "skip-max": { type: "boolean", default: false },
    "idle-bare-first": { type: "boolean", default: false },
    /** Profiling: only one generator against the no-work server, at the first of --rates. */
    only: { type: "string" },
    out: { type: "string" },
  },
});
const rate = Number(args.rate);
const rates = (args.rates ?? "")
  .split(",")
  .filter(Boolean)
  .map((r) => Number(r));
const durationMs = parseDuration(args.duration ?? "10s") ?? 10_000;
const users = Number(args.users);
const idle = Number(args.idle);
const fanoutRate = Number(args["fanout-rate"]);
const log = (line: string) => process.stderr.write(`${line}\n`);
const gc = (globalThis as { gc?: () => void }).gc;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
};
/** The schedule-lag p99 a generator must stay under to "hold" a rate. */
const LAG_P99_LIMIT_MS = 5;
const FANOUT_GROUP = 50;
const FANOUT_GROUPS = 4;

const chatAt = (r: number, ms = durationMs): ResolvedScenario => ({
  name: "bench-direct-chat",
  options: { model: { kind: "constant-arrival-rate", rate: r, duration: ms }, users },
  fn: async (vu) => {
    await vu.sendText(vu.peer(), vu.payload(250));
  },
});
const chat = chatAt(rate);

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

/** The full engine with the openim-direct driver, in this thread, one phase. */
async function cutoverPhase(
  endpoints: StackEndpoints,
  scenario: ResolvedScenario,
  o: { users: number; topology: TopologyInput; drainMs: number },
): Promise<PhaseResult> {
  const { phase } = await LoadSession.once(
    {
      scenario,
      endpoints,
      driver: { name: "openim-direct" },
      workers: 0,
      users: o.users,
      topology: o.topology,
      connectAtSetup: true,
      maxInFlightPerUser: 64,
      setupConcurrency: 16,
    },
    { model: normalizeModel(scenario.options.model), drainMs: o.drainMs },
  );
  return phase;
}

async function cutover(endpoints: StackEndpoints) {
  const r = await cutoverPhase(endpoints, chat, { users, topology: { kind: "pairs" }, drainMs: 15_000 });
  return perMessage(
    "cutover (openim-direct, full protocol)",
    r.generator.cpuSeconds,
    r.counters.sent,
    r.counters.delivered,
    r,
  );
}

function perMessage(name: string, cpuSeconds: number, sent: number, received: number, r?: PhaseResult) {
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
const lagP99 = (r: PhaseResult) => summarize(r.histograms.get("schedule_lag") ?? newHistogram()).p99;

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
  const counter = frameCounter();
  const list = await bareUsers(endpoints, users);
  const sockets = await connectBare(endpoints.openimWs, list, counter.onFrame);
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

/** One rate against the no-work server: cutover, then the bare script, same users count, same frames. */
async function noWorkRow(nw: NoWorkProcess, r: number) {
  const endpoints = noWorkEndpoints(nw);
  await settle();
  const c = await cutoverPhase(endpoints, chatAt(r), { users, topology: { kind: "pairs" }, drainMs: 5000 });
  const cutoverMessages = c.counters.sent + c.counters.delivered;
  await settle();
  const counter = frameCounter();
  const list = await bareUsers(endpoints, users);
  const sockets = await connectBare(endpoints.openimWs, list, counter.onFrame);
  const b = await runBare(sockets, list, r, durationMs, counter);
  for (const s of sockets) s.terminate();
  const bareMessages = b.sent + b.pushes;
  const cutoverCpuMicrosPerMessage = round((c.generator.cpuSeconds / cutoverMessages) * 1e6, 2);
  const bareCpuMicrosPerMessage = round((b.cpuSeconds / bareMessages) * 1e6, 2);
  return {
    rate: r,
    cutoverCpuMicrosPerMessage,
    bareCpuMicrosPerMessage,
    ratioToBareWs: round(cutoverCpuMicrosPerMessage / bareCpuMicrosPerMessage, 2),
    cutover: {
      sent: c.counters.sent,
      received: c.counters.delivered,
      lost: c.counters.lost,
      dropped: c.counters.droppedIterations,
      cpuSeconds: round(c.generator.cpuSeconds, 3),
      scheduleLagP99Ms: lagP99(c),
      ack: pick(summarize(c.histograms.get("ack") ?? newHistogram())),
      e2e: pick(summarize(c.histograms.get("e2e") ?? newHistogram())),
    },
    bare: { sent: b.sent, received: b.pushes, cpuSeconds: round(b.cpuSeconds, 3) },
  };
}

/** The highest rate one cutover process holds against the no-work server: schedule lag p99 < 5 ms, nothing dropped or lost. */
async function highestRateHeld(nw: NoWorkProcess, rows: Array<Awaited<ReturnType<typeof noWorkRow>>>) {
  const holds = (x: { scheduleLagP99Ms: number; dropped: number; lost: number }) =>
    x.scheduleLagP99Ms < LAG_P99_LIMIT_MS && x.dropped === 0 && x.lost === 0;
  const tried = rows.map((row) => ({
    rate: row.rate,
    scheduleLagP99Ms: row.cutover.scheduleLagP99Ms,
    dropped: row.cutover.dropped,
    lost: row.cutover.lost,
    held: holds(row.cutover),
  }));
  let held = Math.max(0, ...tried.filter((t) => t.held).map((t) => t.rate));
  const cap = Number(args["max-rate-cap"]);
  // Above the highest listed rate held, step up by half of it again until it no longer holds (bounded by the cap).
  let next = held > 0 && held === Math.max(...rates) ? Math.round(held * 1.5) : 0;
  while (!args["skip-max"] && next > 0 && next <= cap) {
    await settle();
    log(`  highest rate held: trying ${next}/s …`);
    const c = await cutoverPhase(noWorkEndpoints(nw), chatAt(next, 5000), {
      users,
      topology: { kind: "pairs" },
      drainMs: 5000,
    });
    const t = {
      rate: next,
      scheduleLagP99Ms: lagP99(c),
      dropped: c.counters.droppedIterations,
      lost: c.counters.lost,
      held: false,
    };
    t.held = holds(t);
    tried.push(t);
    if (!t.held) break;
    held = next;
    next = Math.round(next * 1.5);
  }
  return {
    msgPerSec: held,
    criterion: `schedule lag p99 < ${LAG_P99_LIMIT_MS} ms, nothing dropped or lost (one process, one thread)`,
    tried,
  };
}

/** Group fan-out: 4 groups of 50, each owner sending at its share of --fanout-rate; CPU per received push. */
async function fanout(nw: NoWorkProcess) {
  const endpoints = noWorkEndpoints(nw);
  const n = FANOUT_GROUP * FANOUT_GROUPS;
  const scenario: ResolvedScenario = {
    name: "bench-group-fanout",
    options: { model: { kind: "constant-arrival-rate", rate: fanoutRate, duration: durationMs }, users: n },
    fn: async (vu) => {
      await vu.sendText(vu.group(), vu.payload(250));
    },
  };
  await settle();
  const c = await cutoverPhase(endpoints, scenario, {
    users: n,
    topology: { kind: "groups", size: FANOUT_GROUP },
    drainMs: 5000,
  });
  await settle();
  const list = await bareUsers(endpoints, n);
  const rest = createRestClient({ baseUrl: endpoints.openimApi });
  const targets: BareTarget[] = [];
  try {
    for (let g = 0; g < FANOUT_GROUPS; g++) {
      const members = list.slice(g * FANOUT_GROUP, (g + 1) * FANOUT_GROUP);
      const info = await createGroup(rest, "any", {
        ownerUserID: members[0]?.userID ?? "",
        memberUserIDs: members.slice(1).map((m) => m.userID),
      });
      targets.push({ from: g * FANOUT_GROUP, groupID: info.groupID });
    }
  } finally {
    await rest.close();
  }
  const counter = frameCounter();
  const sockets = await connectBare(endpoints.openimWs, list, counter.onFrame);
  const b = await runBare(sockets, list, fanoutRate, durationMs, counter, targets);
  for (const s of sockets) s.terminate();
  const cutoverPerPush = round((c.generator.cpuSeconds / Math.max(1, c.counters.delivered)) * 1e6, 2);
  const barePerPush = round((b.cpuSeconds / Math.max(1, b.pushes)) * 1e6, 2);
  return {
    groupSize: FANOUT_GROUP,
    groups: FANOUT_GROUPS,
    rate: fanoutRate,
    cutoverCpuMicrosPerReceivedPush: cutoverPerPush,
    bareCpuMicrosPerReceivedPush: barePerPush,
    ratioToBareWs: round(cutoverPerPush / barePerPush, 2),
    cutover: {
      sent: c.counters.sent,
      received: c.counters.delivered,
      lost: c.counters.lost,
      cpuSeconds: round(c.generator.cpuSeconds, 3),
      e2eLast: pick(summarize(c.histograms.get("e2e_last") ?? newHistogram())),
    },
    bare: { sent: b.sent, received: b.pushes, cpuSeconds: round(b.cpuSeconds, 3) },
    note: "CPU (send side included) over pushes received: with 49 recipients a message, the receive path is what it measures",
  };
}

type Mem = NodeJS.MemoryUsage;
const memDelta = (a: Mem, b: Mem) => ({
  rss: (b.rss - a.rss) / idle,
  heapUsed: (b.heapUsed - a.heapUsed) / idle,
  heapTotal: (b.heapTotal - a.heapTotal) / idle,
});

/** `idle` cutover sessions (login + connect, nothing sent): memory growth per connection, after GC. */
async function idleCutover(endpoints: StackEndpoints) {
  await settle();
  const before = process.memoryUsage();
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
  const d = memDelta(before, process.memoryUsage());
  const connected = session.setup.counters.connects;
  await session.close();
  await settle();
  return { ...d, connected };
}

/** `idle` bare sockets; the window holds the same REST work (accounts, tokens) as cutover's. */
async function idleBare(endpoints: StackEndpoints) {
  await settle();
  const before = process.memoryUsage();
  const list = await bareUsers(endpoints, idle);
  const sockets = await connectBare(endpoints.openimWs, list, () => {});
  await settle();
  const d = memDelta(before, process.memoryUsage());
  for (const s of sockets) s.terminate();
  await settle();
  return d;
}

async function idleRss(endpoints: StackEndpoints, target: string) {
  if (idle <= 0) return null;
  // Whichever side runs second reuses the native memory the first one freed (the allocator does
  // not hand it back to the OS), so --idle-bare-first flips the order to show how much that is.
  const bareFirst = args["idle-bare-first"];
  const b0 = bareFirst ? await idleBare(endpoints) : undefined;
  const c = await idleCutover(endpoints);
  const b = b0 ?? (await idleBare(endpoints));
  return {
    connections: idle,
    cutoverConnected: c.connected,
    target,
    order: bareFirst ? "bare first" : "cutover first",
    cutoverBytesPerConnection: Math.round(c.rss),
    bareWsBytesPerConnection: Math.round(b.rss),
    ratioToBareWs: round(c.rss / b.rss, 2),
    /** The JS heap alone (objects a session keeps), and V8's committed heap, same windows. */
    cutoverHeapBytesPerConnection: Math.round(c.heapUsed),
    bareWsHeapBytesPerConnection: Math.round(b.heapUsed),
    cutoverHeapTotalBytesPerConnection: Math.round(c.heapTotal),
    bareWsHeapTotalBytesPerConnection: Math.round(b.heapTotal),
    note: "process RSS growth over the connections, after GC; each side's window holds the same work (REST accounts and tokens, then connecting) and its sessions' state",
  };
}

async function noWorkSection(nw: NoWorkProcess) {
  const rows = [];
  for (const r of rates) {
    log(`no-work server: cutover and bare ws at ${r}/s …`);
    const row = await noWorkRow(nw, r);
    log(
      `  ${r}/s: cutover ${row.cutoverCpuMicrosPerMessage} µs/msg, bare ${row.bareCpuMicrosPerMessage} µs/msg, ratio ${row.ratioToBareWs}, lag p99 ${row.cutover.scheduleLagP99Ms} ms`,
    );
    rows.push(row);
  }
  const max = args["skip-max"] ? null : await highestRateHeld(nw, rows);
  let fan = null;
  if (!args["skip-fanout"]) {
    log(`no-work server: group fan-out, ${FANOUT_GROUPS} groups of ${FANOUT_GROUP} at ${fanoutRate}/s …`);
    fan = await fanout(nw);
    log(
      `  fan-out: cutover ${fan.cutoverCpuMicrosPerReceivedPush} µs/push, bare ${fan.bareCpuMicrosPerReceivedPush} µs/push, ratio ${fan.ratioToBareWs}`,
    );
  }
  return { rows, max, fan };
}

/** Profiling aid: one generator alone against the no-work server (run under node --cpu-prof). */
async function only(nw: NoWorkProcess, which: string) {
  const r = rates[0] ?? 5000;
  const endpoints = noWorkEndpoints(nw);
  if (which === "cutover") {
    const c = await cutoverPhase(endpoints, chatAt(r), { users, topology: { kind: "pairs" }, drainMs: 5000 });
    return perMessage(
      `cutover alone at ${r}/s`,
      c.generator.cpuSeconds,
      c.counters.sent,
      c.counters.delivered,
      c,
    );
  }
  const counter = frameCounter();
  const list = await bareUsers(endpoints, users);
  const sockets = await connectBare(endpoints.openimWs, list, counter.onFrame);
  const b = await runBare(sockets, list, r, durationMs, counter, pairTargets(list));
  for (const s of sockets) s.terminate();
  return perMessage(`bare alone at ${r}/s`, b.cpuSeconds, b.sent, b.pushes);
}

async function withOpenim() {
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
    log(`cutover at ${rate}/s against OpenIM …`);
    const full = await cutover(up.endpoints);
    log(`bare ws at ${rate}/s against OpenIM …`);
    const ceiling = await bare(up.endpoints);
    log(`${idle} idle connections each way …`);
    const rss = await idleRss(up.endpoints, "OpenIM message gateway (local stack)");
    const processes = readState(runDirLayout(runDir).state)?.processes ?? [];
    let accuracy: Record<string, unknown> = {};
    if (!args["skip-accuracy"]) {
      log("accuracy: 5 ms Toxiproxy latency to OpenIM (alternating runs) …");
      accuracy = { latency: await latencyAccuracy(up.endpoints, processes) };
    }
    return { alone, full, ceiling, rss, accuracy };
  } finally {
    if (up.kind === "started") await downLocal(runDir);
  }
}

async function main() {
  const nw = await spawnNoWorkServer();
  log(`no-work server: ${nw.wsURL} (pid ${nw.pid})`);
  try {
    if (args.only) {
      const r = await only(nw, args.only);
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return;
    }
    const noWork = await noWorkSection(nw);
    const openim = args["skip-openim"] ? null : await withOpenim();
    let rss = openim?.rss ?? null;
    if (!openim) {
      log(`${idle} idle connections each way (no-work server) …`);
      rss = await idleRss(noWorkEndpoints(nw), "no-work OpenIM server");
    }
    let accuracy: Record<string, unknown> | null = null;
    if (!args["skip-accuracy"]) {
      log("accuracy: 5 ms Toxiproxy latency to the no-work server …");
      const latencyBare = await latencyAccuracyNoWork(nw);
      log("accuracy: 1 s SIGSTOP stall of the no-work server, open vs closed model …");
      const stall = await stallAccuracyNoWork(nw);
      accuracy = { latencyBare, stall, ...(openim?.accuracy ?? {}) };
    }
    const generators = openim ? [openim.alone, openim.full, openim.ceiling] : [];
    const results = {
      kind: "cutover-bench",
      version: 2,
      at: new Date().toISOString(),
      host: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "",
        loadAverage: os.loadavg(),
        node: process.version,
      },
      parameters: {
        rate,
        rates,
        durationMs,
        users,
        idleConnections: idle,
        fanoutRate,
        gcExposed: gc !== undefined,
        skipOpenim: args["skip-openim"],
      },
      /** Against the no-work server, per rate: CPU per message (sent + received), cutover over bare ws (the aim: ≤ 1.2). */
      noWork: noWork.rows.map((r) => ({
        rate: r.rate,
        cutoverCpuMicrosPerMessage: r.cutoverCpuMicrosPerMessage,
        bareCpuMicrosPerMessage: r.bareCpuMicrosPerMessage,
        ratioToBareWs: r.ratioToBareWs,
      })),
      noWorkDetail: noWork.rows,
      highestRateHeld: noWork.max,
      fanout: noWork.fan,
      generators,
      /** Generator CPU per sent message against OpenIM, cutover over bare ws. */
      ratioToBareWs:
        openim?.full.cpuMicrosPerSentMessage && openim.ceiling.cpuMicrosPerSentMessage
          ? round(openim.full.cpuMicrosPerSentMessage / openim.ceiling.cpuMicrosPerSentMessage, 2)
          : null,
      idleConnections: rss,
      accuracy,
      caveats: [
        "the generator shares this machine with the no-work server, the stack and whatever else runs here: compare the rows of one run, not runs of different times",
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
    await nw.close();
  }
}

await main();
