import { randomBytes } from "node:crypto";
import os from "node:os";
import type { ChatDriver, DriverUser } from "../drivers/driver.js";
import { nowUs } from "../metrics/clock.js";
import {
  addCounters,
  addErrors,
  type Counters,
  type ErrorCounts,
  emptyCounters,
} from "../metrics/counters.js";
import type { HdrIntervalLog } from "../metrics/hdr-log.js";
import { addEncoded, type Histogram, newHistogram } from "../metrics/histogram.js";
import { NO_SHARD, type Shard, shardLabel, shardOperations, shardShare } from "../shards/shard.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import { type IntervalSummary, PhaseAggregate } from "./aggregate.js";
import { createDriver, type DriverSpec } from "./driver-factory.js";
import type { PlanUser, WorkerPlan, WorkerToMain } from "./messages.js";
import { type Model, modelDurationMs, scaleModel, scheduledCount } from "./model.js";
import type { ResolvedScenario } from "./scenario.js";
import { SCENARIO_DEFAULTS } from "./scenario-contract.js";
import {
  assignUnits,
  formUnits,
  groupTarget,
  peerTarget,
  shardUnits,
  type TopologyInput,
  type Unit,
} from "./topology.js";
import { inlineWorker, spawnWorker, type WorkerHandle } from "./worker-pool.js";

/**
 * The load engine as a composition: make the accounts and groups, hand each worker whole
 * units of users, then run measurement phases (one for a plain run, one per step for a
 * capacity search) and merge what the workers report.
 */

export interface LoadOptions {
  scenario: ResolvedScenario;
  endpoints: StackEndpoints;
  driver: DriverSpec;
  /** An in-process driver (tests): the run is then inline, in this thread. */
  driverInstance?: () => ChatDriver | Promise<ChatDriver>;
  /** Worker threads; 0 runs in this thread. Default one per core. */
  workers?: number;
  users: number;
  topology: TopologyInput;
  connectAtSetup: boolean;
  maxInFlightPerUser: number;
  intervalMs?: number;
  setupConcurrency?: number;
  onProgress?: (line: string) => void;
  /** This process's part of a run split over several (shards/shard.ts); default the whole run. */
  shard?: Shard;
  /** Every latency sample also written as text, one file per metric and worker (audits, tests). */
  rawSamplesDir?: string;
}

export interface SetupResult {
  users: number;
  groups: number;
  workers: number;
  ms: number;
  counters: Counters;
  errors: ErrorCounts;
  histograms: Map<string, Histogram>;
}

export interface PhaseOptions {
  model: Model;
  drainMs: number;
  intervalLog?: HdrIntervalLog;
  /** Where this phase starts in the interval log's timeline (s). */
  logOffsetSec?: number;
  onInterval?: (s: IntervalSummary) => void;
  /** Told the wall-clock instant (ms) the schedule will start, before any worker starts it. */
  onScheduleStart?: (atMs: number) => void;
  /**
   * Start the schedule at this wall-clock instant (ms), agreed by every shard at the start
   * barrier, instead of a moment from now; and offer only this shard's operations of it.
   */
  startAtMs?: number;
  segment?: Shard;
}

export interface PhaseResult {
  model: Model;
  startedAt: Date;
  /** From the first scheduled operation to the books closing (drain included). */
  elapsedMs: number;
  /** How long the schedule ran: the model's duration, or less when stopped early. */
  scheduleMs: number;
  /** Operations the model called for (open models). */
  expectedOperations: number;
  counters: Counters;
  errors: ErrorCounts;
  histograms: Map<string, Histogram>;
  intervals: IntervalSummary[];
  interrupted: boolean;
  generator: { cpuSeconds: number; rssMaxBytes: number };
}

const DEFAULT_INTERVAL_MS = SCENARIO_DEFAULTS.intervalMs;
/** How far ahead a phase's start is set, so every worker has the message before it starts. */
const SCHEDULE_LEAD_MS = 200;
/** Setup may log in thousands of users; bounded all the same. */
const SETUP_TIMEOUT_MS = 15 * 60_000;
/** A phase that overruns its schedule and drain by this much is declared stuck. */
const PHASE_GRACE_MS = 60_000;

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism());
}

async function createAccounts(driver: ChatDriver, count: number, onProgress?: (line: string) => void) {
  // A few registration lanes at once: the gateway registers one user per call.
  const lanes = Math.min(8, Math.max(1, Math.ceil(count / 50)));
  const per = Math.ceil(count / lanes);
  const batches = await Promise.all(
    Array.from({ length: lanes }, (_, i) =>
      driver.createUsers(Math.max(0, Math.min(per, count - i * per)), "load"),
    ),
  );
  const users = batches.flat();
  onProgress?.(`created ${users.length} users`);
  return users;
}

function planUsers(units: Unit[], users: DriverUser[], groupIDs: string[]): PlanUser[] {
  const ids = users.map((u) => u.userID);
  const out: PlanUser[] = [];
  for (const unit of units) {
    for (const index of unit.members) {
      const sender = unit.senders.includes(index);
      const peer = peerTarget(unit, index, ids);
      const group = groupTarget(unit, index, unit.group === undefined ? undefined : groupIDs[unit.group]);
      out.push({
        index,
        user: users[index] as DriverUser,
        sender,
        ...(peer ? { peer } : {}),
        ...(group ? { group } : {}),
      });
    }
  }
  return out;
}

type Waiter = { resolve: () => void; reject: (err: Error) => void };

/** The workers of one load run and what is in flight with them. */
export class LoadSession {
  private readonly handles: WorkerHandle[] = [];
  private readonly senders: number[] = [];
  private phase: { id: number; agg: PhaseAggregate; waiter: Waiter } | undefined;
  private ready = new Map<number, WorkerToMain & { type: "ready" }>();
  /** Each worker's latest count of users set up, for the progress line of a long setup. */
  private readonly setupProgress = new Map<number, { done: number; failed: number }>();
  private plannedUsers = 0;
  private readyWaiter: Waiter | undefined;
  private closedCount = 0;
  private closeWaiter: (() => void) | undefined;
  private failure: Error | undefined;
  private phaseCounter = 0;
  private expectedWorkers = 0;
  private stopped = false;
  private stoppedAtUs = 0;
  setup!: SetupResult;

  private constructor(
    private readonly opts: LoadOptions,
    private readonly intervalMs: number,
  ) {}

  static async open(opts: LoadOptions): Promise<LoadSession> {
    const session = new LoadSession(opts, opts.intervalMs ?? DEFAULT_INTERVAL_MS);
    try {
      await session.start();
    } catch (err) {
      // Worker threads keep the process alive: a failed setup must not leave them running.
      await Promise.all(session.handles.map((h) => h.terminate()));
      throw err;
    }
    return session;
  }

  get workers(): number {
    return this.handles.length;
  }

  private async start(): Promise<void> {
    const o = this.opts;
    const started = performance.now();
    const units = shardUnits(formUnits(o.users, o.topology), o.shard ?? NO_SHARD);
    if (units.length === 0)
      throw new Error(
        `${o.users} users make no ${o.topology.kind} at all${o.shard && o.shard.count > 1 ? ` for ${shardLabel(o.shard)} (fewer units than shards)` : ""}`,
      );
    const used = units.reduce((a, u) => a + u.members.length, 0);
    this.plannedUsers = used;
    const setupDriver = o.driverInstance
      ? await o.driverInstance()
      : await createDriver(o.driver, o.endpoints);
    const groupIDs: string[] = [];
    let users: DriverUser[];
    try {
      users = await createAccounts(setupDriver, used, o.onProgress);
      for (const unit of units) {
        if (unit.group === undefined) continue;
        const [owner, ...members] = unit.members.map((m) => users[m] as DriverUser);
        groupIDs[unit.group] = await setupDriver.createGroup(owner as DriverUser, members);
      }
      if (groupIDs.length > 0) o.onProgress?.(`created ${groupIDs.length} groups`);
    } finally {
      // An in-process driver (tests) belongs to its caller; only one made here is closed here.
      if (!o.driverInstance) await setupDriver.close();
    }
    const inline = o.driverInstance !== undefined || o.workers === 0 || !o.scenario.file;
    const workerCount = inline ? 1 : Math.min(o.workers ?? defaultWorkers(), units.length);
    this.expectedWorkers = workerCount;
    const run = randomBytes(4).toString("hex");
    const byWorker = assignUnits(units, workerCount);
    const readyAll = new Promise<void>((resolve, reject) => {
      this.readyWaiter = { resolve, reject };
    });
    for (const [w, unitsOfWorker] of byWorker.entries()) {
      const plan: WorkerPlan = {
        worker: w,
        run,
        driver: o.driver,
        endpoints: o.endpoints,
        ...(o.scenario.file ? { scenarioFile: o.scenario.file } : {}),
        ...(o.rawSamplesDir ? { rawSamplesDir: o.rawSamplesDir } : {}),
        users: planUsers(unitsOfWorker, users, groupIDs),
        connectAtSetup: o.connectAtSetup,
        setupConcurrency: o.setupConcurrency ?? 8,
        maxInFlightPerUser: o.maxInFlightPerUser,
      };
      this.senders.push(unitsOfWorker.reduce((a, u) => a + u.senders.length, 0));
      const onMessage = (msg: WorkerToMain) => this.onMessage(msg);
      this.handles.push(
        inline
          ? inlineWorker(
              plan,
              o.scenario.fn,
              o.driverInstance ? await o.driverInstance() : await createDriver(o.driver, o.endpoints),
              onMessage,
            )
          : spawnWorker(plan, onMessage, (worker, why) =>
              this.fail(new Error(`load worker ${worker} ${why}`)),
            ),
      );
    }
    await withTimeout(readyAll, SETUP_TIMEOUT_MS, "setup (logging users in)");
    const counters = emptyCounters();
    const errors: ErrorCounts = {};
    const histograms = new Map<string, Histogram>();
    for (const r of this.ready.values()) {
      addCounters(counters, r.report.counters);
      addErrors(errors, r.report.errors);
      for (const [name, enc] of Object.entries(r.report.histograms)) {
        const h = histograms.get(name) ?? newHistogram();
        addEncoded(h, enc);
        histograms.set(name, h);
      }
    }
    this.setup = {
      users: used,
      groups: groupIDs.length,
      workers: this.handles.length,
      ms: performance.now() - started,
      counters,
      errors,
      histograms,
    };
  }

  /** Opens a session, runs one measured phase and closes it, whatever happens: the common case. */
  static async once(
    opts: LoadOptions,
    phase: PhaseOptions,
  ): Promise<{ setup: SetupResult; phase: PhaseResult; workers: number }> {
    const session = await LoadSession.open(opts);
    try {
      return { setup: session.setup, phase: await session.runPhase(phase), workers: session.workers };
    } finally {
      await session.close();
    }
  }

  async runPhase(p: PhaseOptions): Promise<PhaseResult> {
    if (this.failure) throw this.failure;
    const id = ++this.phaseCounter;
    const totalSenders = this.senders.reduce((a, b) => a + b, 0);
    // Every worker starts the same schedule at the same instant: a moment from now, or the
    // instant the shards agreed on (read on the wall clock, kept on the monotonic one).
    const leadMs =
      p.startAtMs !== undefined ? Math.max(SCHEDULE_LEAD_MS, p.startAtMs - Date.now()) : SCHEDULE_LEAD_MS;
    const t0Us = nowUs() + leadMs * 1000;
    const startedAt = new Date(Date.now() + leadMs);
    p.onScheduleStart?.(startedAt.getTime());
    const agg = new PhaseAggregate(
      this.handles.length,
      this.intervalMs,
      p.intervalLog,
      p.logOffsetSec ?? 0,
      p.onInterval,
    );
    const cpu0 = process.cpuUsage();
    let rssMax = process.memoryUsage.rss();
    const rssTimer = setInterval(() => {
      rssMax = Math.max(rssMax, process.memoryUsage.rss());
    }, 1000);
    const done = new Promise<void>((resolve, reject) => {
      this.phase = { id, agg, waiter: { resolve, reject } };
    });
    // A shard's senders are already its share; an explicit number of closed-model users is split.
    const closedVus =
      p.model.kind === "closed"
        ? p.model.vus !== undefined
          ? shardShare(p.model.vus, p.segment ?? NO_SHARD)
          : totalSenders
        : 0;
    let assignedVus = 0;
    this.stopped = false;
    for (const [w, handle] of this.handles.entries()) {
      const share = totalSenders > 0 ? (this.senders[w] ?? 0) / totalSenders : 0;
      const vus = w === this.handles.length - 1 ? closedVus - assignedVus : Math.round(closedVus * share);
      assignedVus += vus;
      handle.post({
        type: "phase",
        phase: {
          id,
          model: scaleModel(p.model, share),
          closedVus: vus,
          t0Us,
          intervalMs: this.intervalMs,
          drainMs: p.drainMs,
          ...(p.segment && p.segment.count > 1 ? { segment: p.segment } : {}),
        },
      });
    }
    try {
      await withTimeout(done, modelDurationMs(p.model) + p.drainMs + PHASE_GRACE_MS, "load phase");
    } finally {
      clearInterval(rssTimer);
      this.phase = undefined;
    }
    const cpu = process.cpuUsage(cpu0);
    const modelMs = modelDurationMs(p.model);
    return {
      model: p.model,
      startedAt,
      elapsedMs: (nowUs() - t0Us) / 1000,
      scheduleMs: this.stopped ? Math.max(0, Math.min(modelMs, (this.stoppedAtUs - t0Us) / 1000)) : modelMs,
      expectedOperations: p.segment
        ? shardOperations(scheduledCount(p.model), p.segment)
        : Math.round(scheduledCount(p.model)),
      counters: agg.counters(),
      errors: agg.errors(),
      histograms: agg.totals,
      intervals: agg.intervals,
      interrupted: this.stopped,
      generator: { cpuSeconds: (cpu.user + cpu.system) / 1e6, rssMaxBytes: rssMax },
    };
  }

  /** Ends the current phase early (Ctrl-C): workers stop scheduling, drain briefly and report. */
  stop(): void {
    if (!this.stopped) this.stoppedAtUs = nowUs();
    this.stopped = true;
    for (const h of this.handles) h.post({ type: "stop" });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.closeWaiter = resolve;
    });
    this.closedCount = 0;
    for (const h of this.handles) h.post({ type: "teardown" });
    await withTimeout(closed, 30_000, "disconnecting users").catch(() => {});
    await Promise.all(this.handles.map((h) => h.terminate()));
  }

  private onMessage(msg: WorkerToMain): void {
    switch (msg.type) {
      case "ready": {
        const c = msg.report.counters;
        this.setupProgress.set(msg.worker, { done: c.connects, failed: c.loginErrors + c.connectErrors });
        this.ready.set(msg.worker, msg);
        if (this.ready.size === this.expectedWorkers) this.readyWaiter?.resolve();
        return;
      }
      case "setup-progress": {
        this.setupProgress.set(msg.worker, { done: msg.done, failed: msg.failed });
        // One line per round: when the first worker still setting up reports.
        const first = [...Array(this.expectedWorkers).keys()].find((w) => !this.ready.has(w));
        if (msg.worker !== first) return;
        let done = 0;
        let failed = 0;
        for (const p of this.setupProgress.values()) {
          done += p.done;
          failed += p.failed;
        }
        this.opts.onProgress?.(
          `setup: ${done} of ${this.plannedUsers} users logged in and connected${failed > 0 ? ` (${failed} failed)` : ""}`,
        );
        return;
      }
      case "interval":
      case "phase-done": {
        const phase = this.phase;
        if (!phase || phase.id !== msg.phase) return;
        phase.agg.add(msg.worker, msg.index, msg.report, msg.type === "phase-done");
        if (phase.agg.done) phase.waiter.resolve();
        return;
      }
      case "closed":
        this.closedCount++;
        if (this.closedCount >= this.handles.length) this.closeWaiter?.();
        return;
      case "fatal":
        this.fail(new Error(`load worker ${msg.worker}: ${msg.message}`));
        return;
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.readyWaiter?.reject(err);
    this.phase?.waiter.reject(err);
    this.closeWaiter?.();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
