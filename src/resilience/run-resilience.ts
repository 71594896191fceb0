import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CutoverConfig } from "../config/schema.js";
import { FaultError, parseFault } from "../load/run-faults.js";
import { runLoad } from "../load/run-load.js";
import { loadScenario } from "../load/scenario.js";
import { resolveSettings } from "../load/settings.js";
import { writeJsonAtomic } from "../run/results-file.js";
import { runDirLayout } from "../stack/local/layout.js";
import { checkLocalHealth } from "../stack/local/local-health.js";
import { downLocal, upLocal } from "../stack/local/local-stack.js";
import { readState } from "../stack/local/state.js";
import type { ResilienceCase } from "./fault-catalog.js";

/**
 * The resilience suite: for each fault, a load at a fixed rate with the delivery ledger on, the
 * fault struck mid-run, then what was measured set against what OpenIM promises — and the
 * stack checked afterwards (which part is down) and healed by `up` when a fault left it broken.
 */

export interface ResilienceOptions {
  config: CutoverConfig;
  runDir: string;
  outDir: string;
  cases: ResilienceCase[];
  /** Messages per second across all users. */
  rate: number;
  durationMs: number;
  /** When the fault strikes, from the start of the measured schedule. */
  faultAtMs: number;
  users: number;
  /** Heal (down, then up) right after a fault that left the stack broken (default); else only before the next fault. */
  healAfter?: boolean;
  onCase?: (outcome: ResilienceOutcome) => void;
}

export interface ResilienceOutcome {
  fault: string;
  part: string;
  promise: string;
  source: string[];
  /**
   * kept: no acked message lost; broken: some were; recorded: no promise to judge against;
   * not-run: this machine cannot make the fault (e.g. no packet filter), with the reason.
   */
  verdict: "kept" | "broken" | "recorded" | "not-run";
  notRunReason?: string;
  /** The load ran to its end (a fault must not crash or hang the harness). */
  finished: boolean;
  sent: number;
  acked: number;
  sendErrors: number;
  delivered: number;
  lost: number;
  late: number;
  duplicated: number;
  /** End-to-end latency of what was delivered (ms): how late "delivered late" was. */
  e2eP50Ms: number | null;
  e2eMaxMs: number | null;
  /**
   * A lower bound on acknowledged messages never delivered: every unacked send may be one that
   * the server dropped, so only losses beyond them are surely after an ack (one recipient each).
   */
  ackedLostAtLeast: number;
  errors: Record<string, number>;
  faultEvents: Array<{ t: number; what: string }>;
  /** Checks that failed right after the run: what the fault left down. */
  downAfter: string[];
  /** `up` brought the stack back after this fault. */
  healed: boolean;
  resultsFile: string;
}

export interface ResilienceResults {
  kind: "cutover-resilience";
  version: 1;
  startedAt: string;
  finishedAt: string;
  settings: { rate: number; durationMs: number; faultAtMs: number; users: number; scenario: string };
  outcomes: ResilienceOutcome[];
}

function notRun(c: ResilienceCase, fault: string, reason: string): ResilienceOutcome {
  return {
    fault,
    part: c.part,
    promise: c.promise,
    source: c.source,
    verdict: "not-run",
    notRunReason: reason,
    finished: false,
    sent: 0,
    acked: 0,
    sendErrors: 0,
    delivered: 0,
    lost: 0,
    late: 0,
    duplicated: 0,
    e2eP50Ms: null,
    e2eMaxMs: null,
    ackedLostAtLeast: 0,
    errors: {},
    faultEvents: [],
    downAfter: [],
    healed: false,
    resultsFile: "",
  };
}

const slug = (fault: string) => fault.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "");

/**
 * `up` restarts a crashed stack, but a stack whose processes all live on after losing data (a
 * Redis restart wipes the gateway's accounts) is "up" to it: healing is down, then up.
 */
async function heal(config: CutoverConfig, runDir: string): Promise<void> {
  await downLocal(runDir);
  await upLocal({ config, runDir, progress: () => {} });
}

async function failingChecks(runDir: string): Promise<string[]> {
  const state = readState(runDirLayout(runDir).state);
  if (!state) return ["stack (no state in the run dir)"];
  return (await checkLocalHealth(state)).filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
}

export async function runResilience(o: ResilienceOptions): Promise<ResilienceResults> {
  const scenario = await loadScenario("direct-chat");
  const settings = resolveSettings(
    scenario.options,
    // A long drain costs nothing when all is delivered (it ends when nothing is owed) and tells
    // late from lost after a fault whose recovery takes a consumer-group rebalance.
    { rate: String(o.rate), duration: `${o.durationMs}ms`, users: String(o.users), drain: "30s" },
    o.config.drivers,
  );
  mkdirSync(o.outDir, { recursive: true });
  const results: ResilienceResults = {
    kind: "cutover-resilience",
    version: 1,
    startedAt: new Date().toISOString(),
    finishedAt: "",
    settings: {
      rate: o.rate,
      durationMs: o.durationMs,
      faultAtMs: o.faultAtMs,
      users: o.users,
      scenario: scenario.name,
    },
    outcomes: [],
  };
  const file = path.join(o.outDir, "resilience.json");
  const save = () => {
    writeJsonAtomic(file, results);
    writeFileSync(path.join(o.outDir, "resilience.md"), resilienceMarkdown(results));
  };
  for (const c of o.cases) {
    // Each fault starts from a whole stack: what an earlier one left down is healed first.
    if ((await failingChecks(o.runDir)).length > 0) await heal(o.config, o.runDir);
    const fault = c.fault.replace("{at}", `${o.faultAtMs}ms`);
    const outDir = path.join(o.outDir, slug(fault));
    const run = await runLoad({
      scenario,
      settings,
      stack: { config: o.config, runDir: o.runDir },
      outDir,
      faults: [parseFault(fault)],
      warmup: 0,
    }).catch((err: unknown) => {
      if (err instanceof FaultError) return err;
      throw err;
    });
    if (run instanceof FaultError) {
      results.outcomes.push(notRun(c, fault, run.message));
      save();
      o.onCase?.(results.outcomes.at(-1) as ResilienceOutcome);
      continue;
    }
    const counters = run.results.counters;
    const sent = counters?.sent ?? 0;
    const acked = counters?.acked ?? 0;
    const lost = counters?.lost ?? 0;
    const ackedLostAtLeast = Math.max(0, lost - (sent - acked));
    const downAfter = await failingChecks(o.runDir);
    let healed = false;
    if (downAfter.length > 0 && o.healAfter !== false) {
      await heal(o.config, o.runDir);
      healed = (await failingChecks(o.runDir)).length === 0;
    }
    const outcome: ResilienceOutcome = {
      fault,
      part: c.part,
      promise: c.promise,
      source: c.source,
      verdict: !c.expectNoAckedLoss ? "recorded" : ackedLostAtLeast === 0 ? "kept" : "broken",
      finished: run.results.status === "passed" || run.results.status === "failed",
      sent,
      acked,
      sendErrors: counters?.sendErrors ?? 0,
      delivered: counters?.delivered ?? 0,
      lost,
      late: counters?.late ?? 0,
      duplicated: counters?.duplicated ?? 0,
      e2eP50Ms: run.results.metrics?.e2e?.p50 ?? null,
      e2eMaxMs: run.results.metrics?.e2e?.max ?? null,
      ackedLostAtLeast,
      errors: run.results.errors ?? {},
      faultEvents: run.results.faultEvents ?? [],
      downAfter,
      healed,
      resultsFile: run.file,
    };
    results.outcomes.push(outcome);
    save();
    o.onCase?.(outcome);
  }
  results.finishedAt = new Date().toISOString();
  save();
  return results;
}

const ms = (v: number | null) => (v === null ? "—" : `${Math.round(v)} ms`);

export function resilienceMarkdown(r: ResilienceResults): string {
  const rows = r.outcomes.map((o) =>
    o.verdict === "not-run"
      ? `| \`${o.fault}\` | not run: ${o.notRunReason ?? ""} |  |  |  |  |  |  |  |  |  |  |`
      : `| \`${o.fault}\` | ${o.verdict} | ${o.finished ? "yes" : "**no**"} | ${o.sent} | ${o.acked} | ${o.delivered} | ${o.lost} | ${o.ackedLostAtLeast} | ${o.late} | ${o.duplicated} | ${ms(o.e2eP50Ms)} / ${ms(o.e2eMaxMs)} | ${o.downAfter.length === 0 ? "—" : `${o.downAfter.map((d) => d.split(":")[0]).join(", ")}${o.healed ? " (healed: down, then up)" : " (**not healed**)"}`} |`,
  );
  const promises = r.outcomes.map((o) => `- \`${o.fault}\` — ${o.promise} (${o.source.join("; ")})`);
  return [
    "# Resilience",
    "",
    `${r.settings.scenario} at ${r.settings.rate} msg/s for ${r.settings.durationMs / 1000} s, ${r.settings.users} users; each fault at ${r.settings.faultAtMs / 1000} s. Sent counts every send; lost counts recipients owed at the end of the drain; "acked lost ≥" counts losses beyond every unacked send.`,
    "",
    "| fault | promise | run finished | sent | acked | delivered | lost | acked lost ≥ | late | duplicated | e2e p50 / max | down after |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    "What OpenIM promises:",
    "",
    ...promises,
    "",
  ].join("\n");
}
