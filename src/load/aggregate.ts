import {
  addCounters,
  addErrors,
  type Counters,
  type ErrorCounts,
  emptyCounters,
} from "../metrics/counters.js";
import type { HdrIntervalLog } from "../metrics/hdr-log.js";
import { addEncoded, type Histogram, newHistogram } from "../metrics/histogram.js";
import type { WorkerReport } from "./messages.js";

/** One interval of a phase, merged over workers: what a progress line, a soak's drift check and a report plot read. */
export interface IntervalSummary {
  /** Seconds since the phase's start, at the interval's end. */
  t: number;
  sent: number;
  acked: number;
  delivered: number;
  errors: number;
  dropped: number;
  /** Messages sent per second in this interval. */
  rate: number;
  ackP50: number;
  ackP99: number;
  e2eP50: number;
  e2eP99: number;
  inFlight: number;
  connected: number;
  /** HTTP scenarios: requests answered in the interval, and their latency. */
  requests?: number;
  httpP50?: number;
  httpP99?: number;
  /**
   * Only on the summary handed to a live listener (never in the stored intervals, nor in results):
   * what a live view needs beyond the figures above.
   */
  live?: IntervalLive;
}

/** What a live listener (the live line, the Prometheus endpoint) reads of an interval beyond its figures. */
export interface IntervalLive {
  /** The phase's books so far, summed over workers. */
  counters: Counters;
  /** What each counter grew by in this interval (a new phase starts again from zero). */
  delta: Counters;
  /**
   * This interval's histograms (µs) merged over workers, by metric (ack, e2e, e2e_last, …). Freed
   * once the listener returns: read them during the call, never keep them.
   */
  histograms: ReadonlyMap<string, Histogram>;
}

interface Slot {
  reports: Map<number, WorkerReport>;
  histograms: Map<string, Histogram>;
}

const pct = (h: Histogram | undefined, p: number) =>
  h && h.totalCount > 0 ? h.getValueAtPercentile(p) / 1000 : 0;

/**
 * Merges what workers report during a phase: cumulative histograms per metric, counters
 * summed over workers, and one interval-log line per metric per interval once every
 * worker has reported that interval (workers share the schedule, so interval k is the
 * same span of time in each).
 */
export class PhaseAggregate {
  readonly totals = new Map<string, Histogram>();
  readonly intervals: IntervalSummary[] = [];
  private readonly slots = new Map<number, Slot>();
  private readonly latest = new Map<number, WorkerReport>();
  private readonly finished = new Set<number>();
  private flushedUpTo = -1;
  private previous = emptyCounters();

  constructor(
    private readonly workers: number,
    private readonly intervalMs: number,
    private readonly log: HdrIntervalLog | undefined,
    /** Where this phase starts in the log's timeline, in seconds. */
    private readonly logOffsetSec: number,
    private readonly onInterval: ((s: IntervalSummary) => void) | undefined,
  ) {}

  add(worker: number, index: number, report: WorkerReport, final: boolean): void {
    this.latest.set(worker, report);
    let slot = this.slots.get(index);
    if (!slot) {
      slot = { reports: new Map(), histograms: new Map() };
      this.slots.set(index, slot);
    }
    slot.reports.set(worker, report);
    for (const [name, encoded] of Object.entries(report.histograms)) {
      let h = slot.histograms.get(name);
      if (!h) {
        h = newHistogram();
        slot.histograms.set(name, h);
      }
      addEncoded(h, encoded);
    }
    if (final) this.finished.add(worker);
    this.flushReady();
  }

  get done(): boolean {
    return this.finished.size >= this.workers;
  }

  counters(): Counters {
    const total = emptyCounters();
    for (const r of this.latest.values()) addCounters(total, r.counters);
    return total;
  }

  errors(): ErrorCounts {
    const total: ErrorCounts = {};
    for (const r of this.latest.values()) addErrors(total, r.errors);
    return total;
  }

  /** Flushes every interval all workers have reported (or that no unfinished worker can still add to). */
  private flushReady(): void {
    const indices = [...this.slots.keys()].sort((a, b) => a - b);
    for (const index of indices) {
      if (index <= this.flushedUpTo) continue;
      const slot = this.slots.get(index) as Slot;
      const waiting = [...Array(this.workers).keys()].some(
        (w) => !slot.reports.has(w) && !this.finished.has(w),
      );
      if (waiting && !this.done) return;
      this.flush(index, slot);
    }
  }

  private flush(index: number, slot: Slot): void {
    this.slots.delete(index);
    this.flushedUpTo = index;
    const startSec = (index * this.intervalMs) / 1000;
    const endSec = startSec + this.intervalMs / 1000;
    for (const [name, h] of slot.histograms) {
      let total = this.totals.get(name);
      if (!total) {
        total = newHistogram();
        this.totals.set(name, total);
      }
      total.add(h);
      this.log?.write(name, h, this.logOffsetSec + startSec, this.logOffsetSec + endSec);
    }
    const counters = emptyCounters();
    let inFlight = 0;
    let connected = 0;
    for (let w = 0; w < this.workers; w++) {
      const r = slot.reports.get(w) ?? this.latest.get(w);
      if (!r) continue;
      addCounters(counters, r.counters);
      inFlight += r.inFlight;
      connected += r.connected;
    }
    const errors = (c: Counters) =>
      c.sendErrors + c.loginErrors + c.connectErrors + c.failedIterations + c.httpErrors;
    const summary: IntervalSummary = {
      t: endSec,
      sent: counters.sent - this.previous.sent,
      acked: counters.acked - this.previous.acked,
      delivered: counters.delivered - this.previous.delivered,
      errors: errors(counters) - errors(this.previous),
      dropped: counters.droppedIterations - this.previous.droppedIterations,
      rate: (counters.sent - this.previous.sent) / (this.intervalMs / 1000),
      ackP50: pct(slot.histograms.get("ack"), 50),
      ackP99: pct(slot.histograms.get("ack"), 99),
      e2eP50: pct(slot.histograms.get("e2e"), 50),
      e2eP99: pct(slot.histograms.get("e2e"), 99),
      inFlight,
      connected,
    };
    // The books so far, beside the histograms: a run killed before it writes its results leaves them here.
    this.log?.counters(this.logOffsetSec, this.logOffsetSec + endSec, { ...counters, inFlight, connected });
    const previous = this.previous;
    this.previous = counters;
    this.intervals.push(summary);
    try {
      const delta = { ...counters };
      for (const k of Object.keys(delta) as (keyof Counters)[]) delta[k] -= previous[k];
      this.onInterval?.({
        ...summary,
        live: { counters: { ...counters }, delta, histograms: slot.histograms },
      });
    } finally {
      for (const h of slot.histograms.values()) h.destroy();
    }
  }
}
