import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { JsHistogram } from "hdr-histogram-js";
import { Counter, Gauge, Histogram as PromHistogram, Pushgateway, Registry } from "prom-client";
import type { Histogram } from "../metrics/histogram.js";
import type { ResourceSample } from "../metrics/proc-sampler.js";
import { UsageError } from "../util/errors.js";
import type { IntervalSummary } from "./aggregate.js";

/**
 * cutover's own metrics while a run goes, in Prometheus text format: served for a scrape
 * (`--metrics-port`) and/or pushed to a Pushgateway every interval and once at the end
 * (`--metrics-push`). Counters add up each interval's books, so at the end they equal the
 * results' counters; the latency histograms get every sample of the engine's HDR histograms
 * (counts exact; each sample sits in its bucket by its HDR value, 3 significant digits).
 */

export interface LiveMetricsOptions {
  scenario: string;
  /** The run's id: its results directory's name. */
  run: string;
  /** "i/N" when this process is one shard of a run. */
  shard?: string;
  /** Serve GET /metrics here (port 0: a free one); absent: serve nothing. */
  listen?: { host: string; port: number };
  /** A Pushgateway's base URL, e.g. http://127.0.0.1:9091. */
  pushUrl?: string;
  /** A push that failed; said once per kind of failure, the run goes on. */
  onPushError?: (message: string) => void;
}

export interface LiveMetrics {
  /** http://HOST:PORT/metrics when serving. */
  readonly url: string | undefined;
  readonly port: number | undefined;
  /** Starts serving (when the options did not); resolves to the URL. */
  serve(listen: { host: string; port: number }): Promise<string>;
  /** One interval of a phase (the engine's interval event). */
  interval(s: IntervalSummary): void;
  /** A resource sample of the system under test. */
  sut(sample: ResourceSample): void;
  /** The exposition as a scrape would see it. */
  text(): Promise<string>;
  /** Pushes a last time (when pushing), stops serving. Idempotent. */
  close(): Promise<void>;
}

/** Seconds: 5 ms apart where OpenIM's end-to-end latency lives (20–80 ms), coarser out to a minute. */
export const LATENCY_BUCKETS = [
  0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.045, 0.05, 0.055, 0.06,
  0.065, 0.07, 0.075, 0.08, 0.09, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30,
  60,
];

const PUSH_TIMEOUT_MS = 5000;

/** `--metrics-port 9464`, `0` (a free port) or `0.0.0.0:9464` (reachable from elsewhere); loopback by default. */
export function parseMetricsListen(value: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[2]);
  if (!m || port > 65535)
    throw new UsageError(`--metrics-port ${value}: expected a port (0 = a free one) or HOST:PORT, e.g. 9464`);
  return { host: m[1] ?? "127.0.0.1", port };
}

/** `--metrics-push http://pushgateway:9091`. */
export function parsePushUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--metrics-push ${value}: expected a Pushgateway URL, e.g. http://127.0.0.1:9091`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`--metrics-push ${value}: expected an http(s) URL of a Pushgateway`);
  return value.replace(/\/+$/, "");
}

export async function startLiveMetrics(o: LiveMetricsOptions): Promise<LiveMetrics> {
  const registry = new Registry();
  registry.setDefaultLabels({ scenario: o.scenario, run: o.run, ...(o.shard ? { shard: o.shard } : {}) });
  const registers = [registry];
  const counter = (name: string, help: string) => new Counter({ name: `cutover_${name}`, help, registers });
  const gauge = (name: string, help: string) => new Gauge({ name: `cutover_${name}`, help, registers });
  const latency = (name: string, help: string) => new HdrFedHistogram(`cutover_${name}`, help, registers);

  const m = {
    sent: counter("sent_total", "Messages sent (stamped and handed to the stack)."),
    acked: counter("acked_total", "Sends the server acknowledged."),
    expected: counter(
      "expected_deliveries_total",
      "Deliveries owed: each sent message times its recipients.",
    ),
    delivered: counter("delivered_total", "Deliveries that arrived (first arrival per recipient)."),
    lost: counter(
      "lost_total",
      "Deliveries not made by the end of a phase's drain window (counted when it ends).",
    ),
    errors: counter("errors_total", "Failed sends, logins, connects and iterations."),
    dropped: counter(
      "dropped_iterations_total",
      "Scheduled operations that never ran: the generator could not keep the rate.",
    ),
    inFlight: gauge("in_flight", "Operations started and not yet finished."),
    connected: gauge("connected", "Realtime connections the virtual users hold."),
    outstanding: gauge(
      "outstanding_deliveries",
      "Deliveries owed and not (yet) made: sent less delivered less lost, so far in the phase.",
    ),
    sutRss: gauge("sut_rss_bytes", "Resident memory of the stack's processes, summed (local stacks)."),
    sutCpu: gauge("sut_cpu_percent", "CPU of the stack's processes, percent of one core (local stacks)."),
    genRss: gauge("generator_rss_bytes", "Resident memory of cutover itself, worker threads included."),
    genCpu: gauge(
      "generator_cpu_percent",
      "CPU of cutover itself, percent of one core: near the cores it has, its latencies include its own queueing.",
    ),
    ack: latency("ack_latency_seconds", "From the intended send time to the server's ack."),
    e2e: latency("e2e_latency_seconds", "From the intended send time to arrival at each recipient."),
  };
  // Every series exists from the first scrape, zero until something happens.
  for (const c of [m.sent, m.acked, m.expected, m.delivered, m.lost, m.errors, m.dropped]) c.inc(0);
  for (const g of [m.inFlight, m.connected, m.outstanding]) g.set(0);

  let closed = false;
  let server: Server | undefined;
  let port: number | undefined;
  let url: string | undefined;
  const serve = async (listen: { host: string; port: number }): Promise<string> => {
    if (url) return url;
    if (closed) throw new Error("live metrics are closed: nothing more to serve");
    const srv = createServer((req, res) => {
      if (req.method !== "GET" || (req.url ?? "/").split("?")[0] !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("cutover serves /metrics\n");
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(err)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      srv.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          new UsageError(
            `--metrics-port: cannot listen on ${listen.host}:${listen.port} (${err.code ?? err.message}); choose another port, or 0 for a free one`,
          ),
        ),
      );
      srv.listen(listen.port, listen.host, () => resolve());
    });
    // Never what keeps the process alive: a run that is over is over, scraped or not.
    srv.unref();
    server = srv;
    port = (srv.address() as AddressInfo).port;
    const host = listen.host === "0.0.0.0" || listen.host === "::" ? "127.0.0.1" : listen.host;
    url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/metrics`;
    return url;
  };
  if (o.listen) await serve(o.listen);

  const gateway = o.pushUrl ? new Pushgateway(o.pushUrl, { timeout: PUSH_TIMEOUT_MS }, registry) : undefined;
  // The grouping key names the series' own labels, so a push and a scrape read alike; "1/3" cannot be a
  // path segment, so the shard goes base64url-encoded, which the Pushgateway decodes (`shard@base64`).
  const groupings = {
    run: o.run,
    ...(o.shard ? { "shard@base64": Buffer.from(o.shard).toString("base64url") } : {}),
  };
  const failuresSaid = new Set<string>();
  let pushing: Promise<void> | undefined;
  let again = false;
  const push = (): Promise<void> => {
    if (!gateway) return Promise.resolve();
    // One push at a time; an interval that ends meanwhile is folded into one more push after it.
    if (pushing) {
      again = true;
      return pushing;
    }
    pushing = (async () => {
      do {
        again = false;
        try {
          await gateway.push({ jobName: "cutover", groupings });
        } catch (err) {
          const text = err instanceof Error ? err.message : String(err);
          const kind = text.replace(/\d+/g, "#");
          if (!failuresSaid.has(kind)) {
            failuresSaid.add(kind);
            o.onPushError?.(`metrics push to ${o.pushUrl} failed: ${text}`);
          }
        }
      } while (again);
      pushing = undefined;
    })();
    return pushing;
  };

  return {
    get url() {
      return url;
    },
    get port() {
      return port;
    },
    serve,
    interval(s: IntervalSummary): void {
      if (closed) return;
      m.sent.inc(s.sent);
      m.acked.inc(s.acked);
      m.delivered.inc(s.delivered);
      m.errors.inc(s.errors);
      m.dropped.inc(s.dropped);
      m.inFlight.set(s.inFlight);
      m.connected.set(s.connected);
      if (s.live) {
        const { counters, delta, histograms } = s.live;
        m.expected.inc(delta.expectedDeliveries);
        m.lost.inc(delta.lost);
        m.outstanding.set(Math.max(0, counters.expectedDeliveries - counters.delivered - counters.lost));
        m.ack.add(histograms.get("ack"));
        m.e2e.add(histograms.get("e2e"));
      }
      void push();
    },
    sut(sample: ResourceSample): void {
      if (closed) return;
      m.sutRss.set(sample.totalRssBytes);
      m.sutCpu.set(sample.totalCpuPercent);
      if (sample.generator) {
        m.genRss.set(sample.generator.rssBytes);
        m.genCpu.set(sample.generator.cpuPercent);
      }
    },
    text: () => registry.metrics(),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await push();
      if (server) {
        const srv = server;
        await new Promise<void>((resolve) => {
          srv.close(() => resolve());
          srv.closeAllConnections();
        });
      }
    },
  };
}

type Exposition = Awaited<ReturnType<PromHistogram["get"]>>;

/**
 * A Prometheus histogram fed whole HDR histograms: each distinct HDR value (µs) is placed in its
 * bucket with its count at once, rather than observed sample by sample (a 20,000 msg/s run would
 * cost the main thread a tenth of its time in observe() calls). It registers and exposes itself
 * as prom-client's own histogram does, with the same series (_bucket by le, _sum, _count).
 */
class HdrFedHistogram extends PromHistogram {
  /** Samples per bucket (not cumulative); the last is +Inf. */
  private readonly counts = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  private sumUs = 0;
  private total = 0;

  constructor(
    private readonly metricName: string,
    private readonly helpText: string,
    registers: Registry[],
  ) {
    super({ name: metricName, help: helpText, buckets: LATENCY_BUCKETS, registers });
  }

  add(h: Histogram | undefined): void {
    if (!h || h.totalCount === 0) return;
    if (!(h instanceof JsHistogram))
      throw new Error("live metrics read JS HDR histograms (cutover builds no other)");
    const it = h.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      const n = v.countAtValueIteratedTo;
      const b = bucketOf(v.valueIteratedTo / 1e6);
      this.counts[b] = (this.counts[b] ?? 0) + n;
      this.sumUs += v.valueIteratedTo * n;
      this.total += n;
    }
  }

  override async get(): Promise<Exposition> {
    return this.getForPromString();
  }

  /** What the registry formats (it prefers this to get()). */
  async getForPromString(): Promise<Exposition> {
    let cumulative = 0;
    const bucket = `${this.metricName}_bucket`;
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] =
      LATENCY_BUCKETS.map((le, i) => {
        cumulative += this.counts[i] ?? 0;
        return { labels: { le }, value: cumulative, metricName: bucket };
      });
    values.push(
      { labels: { le: "+Inf" }, value: this.total, metricName: bucket },
      { labels: {}, value: this.sumUs / 1e6, metricName: `${this.metricName}_sum` },
      { labels: {}, value: this.total, metricName: `${this.metricName}_count` },
    );
    // prom-client's typings call the type an enum; at run time (and in the text format) it is this string.
    const exposition = {
      name: this.metricName,
      help: this.helpText,
      type: "histogram",
      aggregator: "sum",
      values,
    };
    return exposition as unknown as Exposition;
  }
}

/** The index of the first bucket whose bound holds `seconds` (LATENCY_BUCKETS.length: +Inf). */
function bucketOf(seconds: number): number {
  let lo = 0;
  let hi = LATENCY_BUCKETS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (seconds <= (LATENCY_BUCKETS[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
