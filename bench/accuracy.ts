import { LoadSession, type PhaseResult } from "../src/load/engine.js";
import { normalizeModel } from "../src/load/model.js";
import { type Fault, prepareFaults } from "../src/load/run-faults.js";
import type { ResolvedScenario } from "../src/load/scenario.js";
import { addLatency, ensureToxiproxy, proxyFor, startToxiproxy } from "../src/load/toxiproxy.js";
import { newHistogram, summarize } from "../src/metrics/histogram.js";
import type { StackEndpoints } from "../src/stack/endpoints.js";
import type { ProcessRecord } from "../src/stack/local/processes.js";
import { miniChatDriver, startMiniChatServer } from "./mini-chat.js";

/**
 * Does the generator measure what is really there? Two checks on the local stack:
 *  - a known latency: Toxiproxy adds 5 ms to what OpenIM's gateway sends back; ack and e2e
 *    p50 should rise by 5 ms (runs alternate 0 ms / 5 ms to cancel the machine's drift);
 *  - a known stall: the message gateway is SIGSTOPped for 1 s mid-run; the open model's
 *    tail shows it, the closed model at the same nominal rate shows how much it hides.
 */
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
  const session = await LoadSession.open({
    scenario,
    endpoints: armed.endpoints,
    driver: { name: "openim-direct" },
    workers: 0,
    users: 20,
    topology: { kind: "pairs" },
    connectAtSetup: true,
    maxInFlightPerUser: 64,
  });
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

/**
 * The same 5 ms check against the mini chat server (no work of its own): what the
 * generator adds to a known latency, with OpenIM's variance out of the way.
 */
export async function latencyAccuracyBare(rounds = 3, o: { rate?: number; durationMs?: number } = {}) {
  const server = await startMiniChatServer();
  const tp = await startToxiproxy(await ensureToxiproxy());
  try {
    const listen = await proxyFor(tp, "mini", `127.0.0.1:${server.port}`);
    const scenario = chat(o.rate ?? 200, o.durationMs ?? 5000);
    const rows: Array<{ latencyMs: number; ackP50: number; e2eP50: number }> = [];
    for (let i = 0; i < rounds; i++) {
      for (const latencyMs of [0, 5]) {
        const toxic = latencyMs > 0 ? await addLatency(tp, "mini", latencyMs) : undefined;
        const { phase: r } = await LoadSession.once(
          {
            scenario,
            endpoints: {} as StackEndpoints,
            driver: { name: "mini-chat" },
            driverInstance: () => miniChatDriver(`ws://${listen}`),
            users: 20,
            topology: { kind: "pairs" },
            connectAtSetup: true,
            maxInFlightPerUser: 64,
          },
          { model: normalizeModel(scenario.options.model), drainMs: 2000 },
        );
        await toxic?.remove();
        rows.push({ latencyMs, ackP50: p(r, "ack", "p50"), e2eP50: p(r, "e2e", "p50") });
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const of = (ms: number, k: "ackP50" | "e2eP50") =>
      mean(rows.filter((r) => r.latencyMs === ms).map((r) => r[k]));
    return {
      target: "mini chat server (ack + push, no work) behind Toxiproxy, 200 msg/s",
      injected: "latency toxic, 5 ms, downstream",
      rows,
      ackP50RiseMs: Math.round((of(5, "ackP50") - of(0, "ackP50")) * 100) / 100,
      e2eP50RiseMs: Math.round((of(5, "e2eP50") - of(0, "e2eP50")) * 100) / 100,
    };
  } finally {
    await tp.stop();
    await server.close();
  }
}
