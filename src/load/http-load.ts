import autocannon from "autocannon";
import type { Counters, ErrorCounts } from "../metrics/counters.js";
import { emptyCounters } from "../metrics/counters.js";
import type { HdrIntervalLog } from "../metrics/hdr-log.js";
import { type Histogram, newHistogram, recordUs } from "../metrics/histogram.js";
import type { IntervalSummary } from "./aggregate.js";
import type { PhaseResult } from "./engine.js";
import type { Model } from "./model.js";

/**
 * REST load through autocannon rather than a hand-written HTTP loop: the gateway's REST
 * proxy, OpenIM's admin `msg/send_msg`. Every response's latency goes into an HDR
 * histogram of our own (the `http` metric), per interval into the interval log, and the
 * totals into the same results file as the message path's.
 *
 * autocannon paces with `overallRate` but times each request from when it was actually
 * written, so unlike the WebSocket engine it is subject to coordinated omission when the
 * server stalls; the results file says so (http.note).
 */

/** What an HTTP scenario gets to build its request: the stack, and accounts made for it. */
import type { HttpPlan } from "./scenario-contract.js";

export type { HttpContext, HttpPlan, HttpScenarioFunction } from "./scenario-contract.js";

export const HTTP_NOTE =
  "HTTP load by autocannon (overallRate): latency is timed from each request's actual send, so a stalling server is under-represented (coordinated omission); the WebSocket metrics are timed from intended send times";

export interface HttpRunOptions {
  plan: HttpPlan;
  model: Model;
  intervalMs: number;
  intervalLog?: HdrIntervalLog;
  logOffsetSec?: number;
  onInterval?: (s: IntervalSummary) => void;
  stopped: () => boolean;
}

export async function runHttpLoad(o: HttpRunOptions): Promise<PhaseResult> {
  if (
    o.model.kind !== "open" ||
    o.model.stages.length !== 1 ||
    o.model.stages[0]?.from !== o.model.stages[0]?.to
  )
    throw new Error("HTTP scenarios run a constant arrival rate only (autocannon's overallRate)");
  const rate = o.model.stages[0]?.from ?? 0;
  const durationMs = o.model.stages[0]?.durationMs ?? 0;
  const total = newHistogram();
  const interval = newHistogram();
  const counters: Counters = emptyCounters();
  const errors: ErrorCounts = {};
  const intervals: IntervalSummary[] = [];
  const countError = (code: string) => {
    errors[code] = (errors[code] ?? 0) + 1;
    counters.httpErrors++;
  };
  const startedAt = new Date();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let rssMax = process.memoryUsage.rss();
  let previousRequests = 0;
  let previousErrors = 0;
  let index = 0;
  const flush = () => {
    const startSec = (index * o.intervalMs) / 1000;
    const endSec = startSec + o.intervalMs / 1000;
    o.intervalLog?.write("http", interval, (o.logOffsetSec ?? 0) + startSec, (o.logOffsetSec ?? 0) + endSec);
    const p = (q: number) => (interval.totalCount > 0 ? interval.getValueAtPercentile(q) / 1000 : 0);
    const s: IntervalSummary = {
      t: endSec,
      sent: 0,
      acked: 0,
      delivered: 0,
      errors: counters.httpErrors - previousErrors,
      dropped: 0,
      rate: (counters.httpRequests - previousRequests) / (o.intervalMs / 1000),
      ackP50: 0,
      ackP99: 0,
      e2eP50: 0,
      e2eP99: 0,
      inFlight: 0,
      connected: 0,
      requests: counters.httpRequests - previousRequests,
      httpP50: p(50),
      httpP99: p(99),
    };
    previousRequests = counters.httpRequests;
    previousErrors = counters.httpErrors;
    intervals.push(s);
    o.onInterval?.(s);
    interval.reset();
    index++;
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
  };
  const timer = setInterval(flush, o.intervalMs);
  const plan = o.plan;
  const envelope = plan.check === "openim-envelope";
  let settle: (err: unknown, result: autocannon.Result | undefined) => void = () => {};
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    settle = (err, result) =>
      err || !result ? reject(err ?? new Error("autocannon gave no result")) : resolve(result);
  });
  const instance = autocannon(
    {
      url: plan.url,
      method: plan.method ?? "POST",
      headers: { "content-type": "application/json", ...plan.headers },
      ...(plan.body !== undefined ? { body: plan.body } : {}),
      idReplacement: true,
      connections: plan.connections ?? 10,
      overallRate: rate,
      duration: durationMs / 1000,
      timeout: 10,
      ...(envelope
        ? {
            // Called once per response with its body: the envelope's errCode says whether OpenIM did it.
            verifyBody: (body: string | Buffer | undefined) => {
              let code: unknown;
              try {
                code = (JSON.parse(String(body)) as { errCode?: unknown }).errCode;
              } catch {
                code = "not-json";
              }
              if (code !== 0) countError(`errCode ${String(code)}`);
              return code === 0;
            },
          }
        : {}),
    },
    (err, result) => settle(err, result),
  );
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    counters.httpRequests++;
    counters.iterations++;
    recordUs(total, responseTime * 1000);
    recordUs(interval, responseTime * 1000);
    if (statusCode < 200 || statusCode >= 300) countError(`http ${statusCode}`);
  });
  instance.on("reqError", (err: unknown) => {
    counters.httpRequests++;
    countError(
      err instanceof Error ? ((err as Error & { code?: string }).code ?? err.name) : "request error",
    );
  });
  const stopCheck = setInterval(() => {
    if (o.stopped()) instance.stop();
  }, 200);
  let done: autocannon.Result | undefined;
  try {
    done = await finished;
  } finally {
    clearInterval(stopCheck);
    clearInterval(timer);
  }
  if (interval.totalCount > 0) flush();
  counters.scheduled = Math.round((rate * durationMs) / 1000);
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const histograms = new Map<string, Histogram>([["http", total]]);
  return {
    model: o.model,
    startedAt,
    elapsedMs,
    scheduleMs: Math.min(durationMs, elapsedMs),
    expectedOperations: counters.scheduled,
    counters,
    errors,
    histograms,
    intervals,
    interrupted: o.stopped() || (done?.duration ?? 0) * 1000 < durationMs - 1000,
    generator: { cpuSeconds: (cpu.user + cpu.system) / 1e6, rssMaxBytes: rssMax },
  };
}
