import { LoadSession, type PhaseResult } from "../src/load/engine.js";
import { normalizeModel } from "../src/load/model.js";
import { type Fault, prepareFaults } from "../src/load/run-faults.js";
import type { ResolvedScenario } from "../src/load/scenario.js";
import { addLatency, ensureToxiproxy, proxyFor, startToxiproxy } from "../src/load/toxiproxy.js";
import { newHistogram, summarize } from "../src/metrics/histogram.js";
import type { StackEndpoints } from "../src/stack/endpoints.js";
import type { ProcessRecord } from "../src/stack/local/processes.js";
import { noWorkEndpoints, startNoWorkServer } from "./no-work-openim.js";
import type { NoWorkProcess } from "./no-work-openim-process.js";

/**
 * Does the generator measure what is really there? Checks on the local stack (below) and on
 * the no-work server (latencyAccuracyNoWork, stallAccuracyNoWork):
 *  - a known latency: Toxiproxy adds 5 ms to what OpenIM's gateway sends back; ack and e2e
 *    p50 should rise by 5 ms (runs alternate 0 ms / 5 ms to cancel the machine's drift);
 *  - a known stall: the message gateway is SIGSTOPped for 1 s mid-run; the open model's
 *    tail shows it, the closed model at the same nominal rate shows how much it hides.
 */
/** Every accuracy run: 20 users in pairs on this thread over openim-direct, the setup left out of the clock. */
const sessionOptions = (scenario: ResolvedScenario, endpoints: StackEndpoints) => ({
  scenario,
  endpoints,
  driver: { name: "openim-direct" },
  workers: 0,
  users: 20,
  topology: { kind: "pairs" as const },
  connectAtSetup: true,
  maxInFlightPerUser: 64,
});

const chat = (rate: number, durationMs: number): ResolvedScenario => ({
  name: "bench-accuracy",
  options: { model: { kind: "constant-arrival-rate", rate, duration: durationMs }, users: 20 },
  fn: async (vu) => {
    await vu.sendText(vu.peer(), vu.payload(250));
  },
});

async function runWith(
  endpoints: StackEndpoints,
  processes: ProcessRecord[],
  faults: Fault[],
  model: ReturnType<typeof normalizeModel>,
  scenario: ResolvedScenario,
): Promise<PhaseResult> {
  // Only the stall reaches a process here, and it needs no state file or ports.
  const armed = await prepareFaults(faults, endpoints, { processes, ports: {}, stateFile: "" });
  const session = await LoadSession.open(sessionOptions(scenario, armed.endpoints));
  let disarm: (() => void) | undefined;
  try {
    // The stall counts from the instant the schedule starts, as the engine tells it.
    return await session.runPhase({
      model,
      drainMs: 15_000,
      onScheduleStart: (atMs) => {
        disarm = armed.arm(() => {}, atMs - Date.now());
      },
    });
  } finally {
    disarm?.();
    await session.close();
    await armed.close();
  }
}

const stat = (r: PhaseResult, metric: string) => summarize(r.histograms.get(metric) ?? newHistogram());
const p = (r: PhaseResult, metric: string, q: "p50" | "p99") => stat(r, metric)[q];

export async function latencyAccuracy(endpoints: StackEndpoints, processes: ProcessRecord[], rounds = 2) {
  const scenario = chat(50, 8000);
  const model = normalizeModel(scenario.options.model);
  const rows: Array<{ latencyMs: number; ackP50: number; e2eP50: number }> = [];
  for (let i = 0; i < rounds; i++) {
    for (const latencyMs of [0, 5]) {
      const r = await runWith(
        endpoints,
        processes,
        [{ kind: "latency", ms: latencyMs, jitterMs: 0 }],
        model,
        scenario,
      );
      rows.push({ latencyMs, ackP50: p(r, "ack", "p50"), e2eP50: p(r, "e2e", "p50") });
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const of = (ms: number, k: "ackP50" | "e2eP50") =>
    mean(rows.filter((r) => r.latencyMs === ms).map((r) => r[k]));
  return {
    injected: "Toxiproxy latency toxic, 5 ms, downstream (OpenIM gateway → client)",
    rows,
    ackP50RiseMs: Math.round((of(5, "ackP50") - of(0, "ackP50")) * 100) / 100,
    e2eP50RiseMs: Math.round((of(5, "e2eP50") - of(0, "e2eP50")) * 100) / 100,
  };
}

export async function stallAccuracy(endpoints: StackEndpoints, processes: ProcessRecord[]) {
  const scenario = chat(50, 10_000);
  const stall: Fault[] = [{ kind: "stall", atMs: 4000, forMs: 1000 }];
  const open = await runWith(endpoints, processes, stall, normalizeModel(scenario.options.model), scenario);
  // The same 50/s nominal rate, closed: 4 users, each every 80 ms after its answer.
  const closed = await runWith(
    endpoints,
    processes,
    stall,
    normalizeModel({ kind: "closed", vus: 4, thinkTime: 80, duration: 10_000 }),
    scenario,
  );
  const row = (r: PhaseResult) => ({
    sent: r.counters.sent,
    ackP50: p(r, "ack", "p50"),
    ackP99: p(r, "ack", "p99"),
    ackMax: stat(r, "ack").max,
    e2eP99: p(r, "e2e", "p99"),
  });
  return {
    injected: "SIGSTOP openim-msggateway for 1 s at 4 s into a 10 s run at 50 msg/s",
    open: row(open),
    closed: row(closed),
  };
}

/** The share of samples (%) above `ms`, read off the histogram to 0.1 %. */
function shareAbove(r: PhaseResult, metric: string, ms: number): number {
  const h = r.histograms.get(metric);
  if (!h || h.totalCount === 0) return 0;
  let q = 100;
  while (q > 0 && h.getValueAtPercentile(q - 0.1) > ms * 1000) q = Math.round((q - 0.1) * 10) / 10;
  return Math.round((100 - q) * 10) / 10;
}

/**
 * The same 5 ms check against the no-work OpenIM server (bench/no-work-openim.ts), through the
 * openim-direct driver — the full protocol path, with no server variance to drown the 5 ms.
 */
export async function latencyAccuracyNoWork(
  server: { wsURL: string; apiURL: string; port: number },
  rounds = 5,
  o: { rate?: number; durationMs?: number } = {},
) {
  const tp = await startToxiproxy(await ensureToxiproxy());
  try {
    const listen = await proxyFor(tp, "no-work", `127.0.0.1:${server.port}`);
    // REST straight to the server, the socket through the proxy: only the message path carries the toxic.
    const endpoints = { ...noWorkEndpoints(server), openimWs: `ws://${listen}` };
    const rate = o.rate ?? 200;
    const scenario = chat(rate, o.durationMs ?? 5000);
    const rows: Array<{ latencyMs: number; ackP50: number; e2eP50: number }> = [];
    for (let i = 0; i < rounds; i++) {
      for (const latencyMs of [0, 5]) {
        const toxic = latencyMs > 0 ? await addLatency(tp, "no-work", latencyMs) : undefined;
        const { phase: r } = await LoadSession.once(sessionOptions(scenario, endpoints), {
          model: normalizeModel(scenario.options.model),
          drainMs: 2000,
        });
        await toxic?.remove();
        rows.push({ latencyMs, ackP50: p(r, "ack", "p50"), e2eP50: p(r, "e2e", "p50") });
      }
    }
    // Paired rounds (0 ms then 5 ms, back to back): the median of their differences, so one round
    // caught by a burst of load on the shared machine does not move the answer.
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((x, y) => x - y);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
    };
    const rise = (k: "ackP50" | "e2eP50") =>
      median(Array.from({ length: rounds }, (_, i) => (rows[2 * i + 1]?.[k] ?? 0) - (rows[2 * i]?.[k] ?? 0)));
    return {
      target: `no-work OpenIM server (openim-direct driver) behind Toxiproxy, ${rate} msg/s`,
      injected: "latency toxic, 5 ms, downstream (server → client)",
      rows,
      ackP50RiseMs: Math.round(rise("ackP50") * 100) / 100,
      e2eP50RiseMs: Math.round(rise("e2eP50") * 100) / 100,
      estimator: "median over rounds of (5 ms run − 0 ms run), p50 of each run",
    };
  } finally {
    await tp.stop();
  }
}

/**
 * A known 1 s stall (SIGSTOP of the no-work server's process) 4 s into a 10 s run, open model
 * vs closed model at the same nominal rate.
 *
 * Why the closed model did not hide the stall in earlier runs (open ack p99 1018 ms, closed
 * 943 ms): a closed model with 4 users has exactly 4 requests in flight when the stall hits, so
 * it records 4 stalled samples however long the stall — but at 50/s against a slow OpenIM, 4 of
 * its ~400 samples is ~1 %, which is where p99 sits. The omission shows in how many samples saw
 * the stall, not in whether p99 crosses it: so the rate is 200/s (~1,800 closed samples: 4 stalled
 * are 0.2 %), the target does no work (no OpenIM variance), and both the p99 and the share of
 * samples over 100 ms are reported. The open model's share is about rate × stall / total (10 %).
 */
export async function stallAccuracyNoWork(server: NoWorkProcess, o: { rate?: number } = {}) {
  const rate = o.rate ?? 200;
  const vus = 4;
  const scenario = chat(rate, 10_000);
  const endpoints = noWorkEndpoints(server);
  const run = async (model: ReturnType<typeof normalizeModel>) => {
    const session = await LoadSession.open(sessionOptions(scenario, endpoints));
    let stalled: Promise<void> | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await session.runPhase({
        model,
        drainMs: 5000,
        onScheduleStart: (atMs) => {
          timer = setTimeout(
            () => {
              stalled = server.stall(1000);
            },
            atMs - Date.now() + 4000,
          );
        },
      });
    } finally {
      clearTimeout(timer);
      await stalled;
      await session.close();
    }
  };
  const open = await run(normalizeModel(scenario.options.model));
  // The same nominal rate, closed: 4 users, each sending again `thinkTime` after its answer.
  const closed = await run(
    normalizeModel({ kind: "closed", vus, thinkTime: Math.round((1000 * vus) / rate), duration: 10_000 }),
  );
  const row = (r: PhaseResult) => ({
    sent: r.counters.sent,
    ackP50: p(r, "ack", "p50"),
    ackP99: p(r, "ack", "p99"),
    ackMax: stat(r, "ack").max,
    e2eP99: p(r, "e2e", "p99"),
    ackShareOver100msPct: shareAbove(r, "ack", 100),
  });
  return {
    injected: `SIGSTOP of the no-work server for 1 s at 4 s into a 10 s run at ${rate} msg/s`,
    open: row(open),
    closed: row(closed),
    expected:
      "open: p99 near 1 s and ~10 % of acks over 100 ms; closed: p99 near the unstalled value and ~0.2 % over 100 ms (its 4 users wait, the stall swallows their requests)",
  };
}

/** latencyAccuracyNoWork against a no-work server started in this process (tests: no child process to manage). */
export async function latencyAccuracyBare(rounds = 3, o: { rate?: number; durationMs?: number } = {}) {
  const server = await startNoWorkServer();
  try {
    return await latencyAccuracyNoWork(server, rounds, o);
  } finally {
    await server.close();
  }
}
