import { appendFileSync } from "node:fs";
import path from "node:path";
import type { ChatDriver } from "../drivers/driver.js";
import { nowUs } from "../metrics/clock.js";
import { type Counters, type ErrorCounts, emptyCounters } from "../metrics/counters.js";
import { encodeHistogram, type Histogram, newHistogram, recordUs } from "../metrics/histogram.js";
import { sleep } from "../util/time.js";
import { DeliveryLedger } from "./delivery-ledger.js";
import type { PhaseSpec, WorkerPlan, WorkerReport, WorkerToMain } from "./messages.js";
import type { ScenarioFunction } from "./scenario.js";
import { runClosedLoop, runOpenLoop } from "./scheduler.js";
import {
  countError,
  disconnectUser,
  type MetricName,
  Operation,
  UserState,
  type VuHost,
} from "./virtual-user.js";

/** How often a worker says how far its setup has got. */
const SETUP_PROGRESS_MS = 10_000;

/**
 * Everything one worker does, in a worker thread or (tests, --workers 0) in the main
 * thread: its users' sessions, the schedule of its share of the rate, its ledger, and the
 * histograms it reports once per interval.
 */
export class WorkerRuntime implements VuHost {
  readonly run: string;
  counters: Counters = emptyCounters();
  errors: ErrorCounts = {};
  readonly ledger: DeliveryLedger;
  private readonly users: UserState[];
  private readonly senders: UserState[];
  private histograms = new Map<MetricName, Histogram>();
  /** Samples not yet appended to the raw-samples files (only with plan.rawSamplesDir). */
  private readonly raw = new Map<MetricName, number[]>();
  private cursor = 0;
  private busy = 0;
  private inFlight = 0;
  private connected = 0;
  private stopping = false;

  constructor(
    private readonly plan: WorkerPlan,
    private readonly fn: ScenarioFunction,
    readonly driver: ChatDriver,
    private readonly emit: (msg: WorkerToMain) => void,
  ) {
    this.run = plan.run;
    this.ledger = new DeliveryLedger(
      this.run,
      () => this.counters,
      (metric, us) => this.record(metric, us),
    );
    this.users = plan.users.map((u) => new UserState(u));
    this.senders = this.users.filter((u) => u.plan.sender);
    this.openStreams();
  }

  record(metric: MetricName, us: number): void {
    let h = this.histograms.get(metric);
    if (!h) {
      h = newHistogram();
      this.histograms.set(metric, h);
    }
    recordUs(h, us);
    if (this.plan.rawSamplesDir) {
      const pending = this.raw.get(metric) ?? [];
      pending.push(Math.round(us));
      this.raw.set(metric, pending);
    }
  }

  connectionChanged(delta: number): void {
    this.connected += delta;
  }

  /** Logs every user in and connects it before the clock starts, a bounded number at a time. */
  async setup(): Promise<void> {
    if (this.plan.connectAtSetup) {
      let next = 0;
      let done = 0;
      let failed = 0;
      const progress = () =>
        this.emit({
          type: "setup-progress",
          worker: this.plan.worker,
          done,
          failed,
        });
      const timer = setInterval(progress, SETUP_PROGRESS_MS);
      const lane = async () => {
        while (next < this.users.length) {
          const state = this.users[next++] as UserState;
          const op = new Operation(this, state, nowUs());
          if ((await op.login()) && (await op.connect())) done++;
          else failed++;
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.max(1, this.plan.setupConcurrency) }, lane));
      } finally {
        clearInterval(timer);
      }
    }
    this.emit({ type: "ready", worker: this.plan.worker, report: this.takeReport() });
  }

  async runPhase(spec: PhaseSpec): Promise<void> {
    this.stopping = false;
    this.counters = emptyCounters();
    this.errors = {};
    let index = 0;
    // Interval reports on boundaries of the shared schedule, so every worker's interval k covers the same time.
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      this.emit({
        type: "interval",
        worker: this.plan.worker,
        phase: spec.id,
        index,
        report: this.takeReport(),
      });
      index++;
      timer = setTimeout(
        tick,
        Math.max(0, (spec.t0Us + (index + 1) * spec.intervalMs * 1000 - nowUs()) / 1000),
      );
    };
    timer = setTimeout(tick, Math.max(0, (spec.t0Us + spec.intervalMs * 1000 - nowUs()) / 1000));
    try {
      if (spec.model.kind === "open") {
        if (this.senders.length > 0)
          await runOpenLoop({
            stages: spec.model.stages,
            t0Us: spec.t0Us,
            dispatch: (intendedUs) => this.dispatch(intendedUs),
            stopped: () => this.stopping,
            ...(spec.segment ? { segment: spec.segment } : {}),
          });
      } else {
        await runClosedLoop({
          vus: this.senders.length > 0 ? spec.closedVus : 0,
          thinkMs: spec.model.thinkMs,
          t0Us: spec.t0Us,
          durationMs: spec.model.durationMs,
          iterate: (vu, startedUs) => {
            this.counters.scheduled++;
            return this.iterate(this.senders[vu % this.senders.length] as UserState, startedUs);
          },
          stopped: () => this.stopping,
        });
      }
      await this.drain(this.stopping ? Math.min(spec.drainMs, 2000) : spec.drainMs);
    } finally {
      clearTimeout(timer);
    }
    this.ledger.closeBooks();
    this.emit({
      type: "phase-done",
      worker: this.plan.worker,
      phase: spec.id,
      index,
      report: this.takeReport(),
    });
  }

  stop(): void {
    this.stopping = true;
  }

  async teardown(): Promise<void> {
    this.stopping = true;
    let next = 0;
    const lane = async () => {
      while (next < this.users.length) await disconnectUser(this, this.users[next++] as UserState);
    };
    await Promise.all(Array.from({ length: Math.max(1, this.plan.setupConcurrency) }, lane));
    try {
      await this.driver.close();
    } catch (err) {
      countError(this.errors, err);
    }
    this.emit({ type: "closed", worker: this.plan.worker });
  }

  /** Open model: an operation falls due; it runs on the next user with room, or is dropped and counted. */
  private dispatch(intendedUs: number): void {
    this.counters.scheduled++;
    const n = this.senders.length;
    const limit = this.plan.maxInFlightPerUser;
    if (this.busy >= n) {
      this.counters.droppedIterations++;
      return;
    }
    for (let i = 0; i < n; i++) {
      const state = this.senders[this.cursor] as UserState;
      this.cursor = (this.cursor + 1) % n;
      if (state.inFlight < limit) {
        void this.iterate(state, intendedUs);
        return;
      }
    }
    this.counters.droppedIterations++;
  }

  private async iterate(state: UserState, intendedUs: number): Promise<void> {
    const limit = this.plan.maxInFlightPerUser;
    state.inFlight++;
    if (state.inFlight === limit) this.busy++;
    this.inFlight++;
    this.counters.iterations++;
    this.record("schedule_lag", nowUs() - intendedUs);
    try {
      await this.fn(new Operation(this, state, intendedUs));
    } catch (err) {
      this.counters.failedIterations++;
      countError(this.errors, err);
    } finally {
      if (state.inFlight === limit) this.busy--;
      state.inFlight--;
      this.inFlight--;
      this.record("iteration", nowUs() - intendedUs);
    }
  }

  /** Waits (bounded) for operations to finish and messages to arrive before the books close. */
  private async drain(maxMs: number): Promise<void> {
    const deadline = nowUs() + maxMs * 1000;
    while (nowUs() < deadline && (this.inFlight > 0 || this.ledger.pending > 0)) await sleep(10);
  }

  private flushRaw(dir: string): void {
    for (const [metric, values] of this.raw) {
      if (values.length === 0) continue;
      appendFileSync(
        path.join(dir, `${metric}-${process.pid}-w${this.plan.worker}.txt`),
        `${values.join("\n")}\n`,
      );
      values.length = 0;
    }
  }

  private takeReport(): WorkerReport {
    if (this.plan.rawSamplesDir) this.flushRaw(this.plan.rawSamplesDir);
    const histograms: Record<string, string> = {};
    for (const [name, h] of this.histograms) {
      if (h.totalCount > 0) histograms[name] = encodeHistogram(h);
      h.reset();
    }
    return {
      counters: { ...this.counters },
      errors: { ...this.errors },
      histograms,
      inFlight: this.inFlight,
      connected: this.connected,
    };
  }

  private openStreams(): void {
    for (const u of this.plan.users) {
      for (const t of [u.peer, u.group])
        if (t && u.sender) this.ledger.openStream(u.index, t.key, t.recipients);
    }
  }
}
