import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import type { JsHistogram } from "hdr-histogram-js";
import { describe, expect, test } from "vitest";
import type { StackEndpoints } from "../stack/endpoints.js";
import type { IntervalSummary } from "./aggregate.js";
import { LoadSession, type PhaseResult } from "./engine.js";
import { FakeChatStack } from "./fake-driver.js";
import {
  LATENCY_BUCKETS,
  type LiveMetrics,
  parseMetricsListen,
  parsePushUrl,
  startLiveMetrics,
} from "./live-metrics.js";
import { normalizeModel } from "./model.js";
import type { ResolvedScenario, ScenarioFunction } from "./scenario.js";

const endpoints = { stack: "local" } as unknown as StackEndpoints;
const fanout: ScenarioFunction = async (vu) => {
  await vu.sendText(vu.group(), vu.payload(100));
};

/** A real run on the in-memory stack (groups of 4, one in 9 deliveries lost), its intervals fed to `live`. */
async function runWith(
  live: LiveMetrics,
  during: (s: IntervalSummary) => void = () => {},
): Promise<PhaseResult> {
  const fake = new FakeChatStack({ latencyMs: 2, loseEvery: 9 });
  const scenario: ResolvedScenario = {
    name: "live",
    options: { model: { kind: "constant-arrival-rate", rate: 100, duration: "1s" }, users: 12 },
    fn: fanout,
  };
  const session = await LoadSession.open({
    scenario,
    endpoints,
    driver: { name: "fake" },
    driverInstance: () => fake.driver(),
    users: 12,
    topology: { kind: "groups", size: 4 },
    connectAtSetup: true,
    maxInFlightPerUser: 64,
    intervalMs: 250,
  });
  try {
    return await session.runPhase({
      model: normalizeModel({ kind: "constant-arrival-rate", rate: 100, duration: "1s" }),
      drainMs: 300,
      onInterval: (s) => {
        live.interval(s);
        during(s);
      },
    });
  } finally {
    await session.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createTcpServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function countUpTo(h: JsHistogram, us: number): number {
  let n = 0;
  const it = h.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    if (v.valueIteratedTo <= us) n += v.countAtValueIteratedTo;
  }
  return n;
}

/** The value of one series in an exposition: `name` with exactly these labels among its own. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const own = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => own[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe("cutover's live metrics, scraped while a run goes", () => {
  test("a scrape at the end equals the results' books, and each latency histogram counts every sample", async () => {
    const live = await startLiveMetrics({
      scenario: "live",
      run: "20261208-load-live",
      listen: { host: "127.0.0.1", port: 0 },
    });
    expect(live.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const url = live.url as string;
    let midRun: Promise<string> | undefined;
    const r = await runWith(live, () => {
      midRun ??= fetch(url).then((res) => res.text());
    });
    const during = await midRun;
    expect(value(during ?? "", "cutover_connected")).toBe(12);

    const res = await fetch(url);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const c = r.counters;
    expect(c.lost).toBeGreaterThan(0);
    const labels = { scenario: "live", run: "20261208-load-live" };
    expect(value(text, "cutover_sent_total", labels)).toBe(c.sent);
    expect(value(text, "cutover_acked_total")).toBe(c.acked);
    expect(value(text, "cutover_delivered_total")).toBe(c.delivered);
    expect(value(text, "cutover_expected_deliveries_total")).toBe(c.expectedDeliveries);
    expect(value(text, "cutover_lost_total")).toBe(c.lost);
    expect(value(text, "cutover_dropped_iterations_total")).toBe(c.droppedIterations);
    expect(value(text, "cutover_errors_total")).toBe(c.sendErrors + c.failedIterations);
    expect(value(text, "cutover_outstanding_deliveries")).toBe(0);

    for (const [metric, name] of [
      ["ack", "cutover_ack_latency_seconds"],
      ["e2e", "cutover_e2e_latency_seconds"],
    ] as const) {
      const samples = r.histograms.get(metric)?.totalCount;
      expect(samples).toBeGreaterThan(0);
      expect(value(text, `${name}_count`)).toBe(samples);
      expect(value(text, `${name}_bucket`, { le: "+Inf" })).toBe(samples);
      // Cumulative: each bucket holds at least what the one below it holds.
      const buckets = text
        .split("\n")
        .filter((l) => l.startsWith(`${name}_bucket`))
        .map((l) => Number(l.split(" ")[1]));
      expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
      // Each bucket holds exactly the results' samples at or under its bound (by their HDR values).
      const hdr = r.histograms.get(metric) as JsHistogram;
      for (const le of LATENCY_BUCKETS)
        expect(value(text, `${name}_bucket`, { le: String(le) }), `${name} le=${le}`).toBe(
          countUpTo(hdr, le * 1e6),
        );
      const mean = (value(text, `${name}_sum`) ?? 0) / (samples ?? 1);
      const hdrMean = (r.histograms.get(metric)?.mean ?? 0) / 1e6;
      expect(Math.abs(mean - hdrMean)).toBeLessThan(hdrMean * 0.01);
    }
    expect(value(text, "cutover_e2e_latency_seconds_count")).toBe(c.delivered);

    await live.close();
    await expect(fetch(url)).rejects.toThrow();
  });

  test("a shard's series carry its shard; the SUT's and the generator's memory are gauges", async () => {
    const live = await startLiveMetrics({ scenario: "soak", run: "r1", shard: "1/3" });
    expect(live.url).toBeUndefined();
    live.sut({
      t: 1,
      processes: [],
      totalCpuPercent: 42,
      totalRssBytes: 123_456_789,
      generator: { cpuPercent: 97, rssBytes: 80_000_000 },
    });
    const text = await live.text();
    expect(value(text, "cutover_sut_rss_bytes", { scenario: "soak", run: "r1", shard: "1/3" })).toBe(
      123_456_789,
    );
    expect(value(text, "cutover_generator_cpu_percent", { shard: "1/3" })).toBe(97);
    expect(value(text, "cutover_sent_total", { shard: "1/3" })).toBe(0);
    await live.close();
  });

  test("pushed to a Pushgateway every interval and once at the end, under job cutover and the run's id", async () => {
    const bodies: { method: string; url: string; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        bodies.push({ method: req.method ?? "", url: req.url ?? "", body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    try {
      const live = await startLiveMetrics({
        scenario: "live",
        run: "run-7",
        shard: "0/2",
        pushUrl: `http://127.0.0.1:${port}`,
      });
      const r = await runWith(live);
      await live.close();
      expect(bodies.length).toBeGreaterThanOrEqual(2);
      for (const b of bodies) {
        expect(b.method).toBe("PUT");
        expect(b.url).toBe("/metrics/job/cutover/run/run-7/shard%40base64/MC8y"); // shard="0/2"
      }
      const last = bodies.at(-1)?.body ?? "";
      expect(value(last, "cutover_sent_total", { run: "run-7" })).toBe(r.counters.sent);
      expect(value(last, "cutover_e2e_latency_seconds_count")).toBe(r.counters.delivered);
    } finally {
      receiver.close();
    }
  });

  // A real Pushgateway when one is at hand: `GOTOOLCHAIN=local go install github.com/prometheus/pushgateway@v1.11.5`.
  const pushgateway = process.env.CUTOVER_PUSHGATEWAY_BIN;
  test.skipIf(!pushgateway)(
    "a real Pushgateway (CUTOVER_PUSHGATEWAY_BIN) serves what was pushed, with the series' own labels",
    async () => {
      const port = await freePort();
      const gw = spawn(pushgateway as string, [`--web.listen-address=127.0.0.1:${port}`], {
        stdio: "ignore",
      });
      try {
        const base = `http://127.0.0.1:${port}`;
        for (let i = 0; i < 100; i++) {
          if (
            await fetch(`${base}/-/ready`).then(
              (r) => r.ok,
              () => false,
            )
          )
            break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const live = await startLiveMetrics({ scenario: "live", run: "run-8", shard: "1/2", pushUrl: base });
        const r = await runWith(live);
        await live.close();
        const text = await (await fetch(`${base}/metrics`)).text();
        const labels = { job: "cutover", run: "run-8", shard: "1/2", scenario: "live" };
        expect(value(text, "cutover_sent_total", labels)).toBe(r.counters.sent);
        expect(value(text, "cutover_delivered_total", labels)).toBe(r.counters.delivered);
        expect(value(text, "cutover_e2e_latency_seconds_count", labels)).toBe(r.counters.delivered);
      } finally {
        gw.kill();
      }
    },
    20_000,
  );

  test("a push that fails is said once and the run goes on", async () => {
    const said: string[] = [];
    const live = await startLiveMetrics({
      scenario: "live",
      run: "r",
      pushUrl: "http://127.0.0.1:1",
      onPushError: (m) => said.push(m),
    });
    const r = await runWith(live);
    await live.close();
    expect(r.counters.sent).toBeGreaterThan(0);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^metrics push to http:\/\/127\.0\.0\.1:1 failed: /);
  });

  test("flags: a port, HOST:PORT, or a clear usage error", () => {
    expect(parseMetricsListen("0")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseMetricsListen("0.0.0.0:9464")).toEqual({ host: "0.0.0.0", port: 9464 });
    expect(() => parseMetricsListen("http")).toThrow(/--metrics-port http: expected a port/);
    expect(() => parseMetricsListen("70000")).toThrow(/expected a port/);
    expect(parsePushUrl("http://pgw:9091/")).toBe("http://pgw:9091");
    expect(() => parsePushUrl("pgw:9091")).toThrow(/expected an http\(s\) URL/);
  });
});
