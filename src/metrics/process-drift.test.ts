import { describe, expect, test } from "vitest";
import type { ResourceSample } from "./proc-sampler.js";
import {
  GENERATOR_NAME,
  judgeProcessDrift,
  messagesFromIntervals,
  processRole,
  processSeries,
} from "./process-drift.js";

const MB = 2 ** 20;

/**
 * The soak of issue #19, synthetic: 30 minutes at 50 msg/s (90,000 messages), one sample a
 * second. The MongoDB stand-in gains 344 MB holding the messages, Redis 93 MB, Kafka 79 MB;
 * OpenIM's services at most 13 MB each, with some noise.
 */
function soak(extra: (t: number) => Record<string, number> = () => ({})): ResourceSample[] {
  const samples: ResourceSample[] = [];
  for (let t = 0; t <= 1800; t++) {
    const f = t / 1800;
    const wobble = ((t * 7919) % 13) / 13; // deterministic noise, 0..1
    const rss: Record<string, number> = {
      mongo: 400 * MB + 344 * MB * f + wobble * 4 * MB,
      redis: 20 * MB + 93 * MB * f + wobble * MB,
      kafka: 600 * MB + 79 * MB * f + wobble * 8 * MB,
      etcd: 40 * MB + wobble * MB,
      "openim-rpc-msg": 40 * MB + 13 * MB * f + wobble * 2 * MB,
      "openim-msggateway": 50 * MB + 10 * MB * f + wobble * 2 * MB,
      "openim-push": 35 * MB + 6 * MB * f + wobble * MB,
      gateway: 60 * MB + 5 * MB * f + wobble * 2 * MB,
      nginx: 10 * MB,
      ...extra(t),
    };
    samples.push({
      t,
      processes: Object.entries(rss).map(([name, rssBytes]) => ({
        name,
        rssBytes,
        cpuPercent: 5,
        alive: true,
      })),
      totalCpuPercent: 45,
      totalRssBytes: Object.values(rss).reduce((a, b) => a + b, 0),
      generator: { cpuPercent: 10 + wobble, rssBytes: 120 * MB + wobble * 3 * MB },
    });
  }
  return samples;
}

/** 50 messages a second from t = 0, one delivery each (pairs). */
const steady = messagesFromIntervals(
  Array.from({ length: 1800 }, (_, i) => ({ t: i + 1, sent: 50, delivered: 50 })),
  0,
);

const opts = { rssMaxRatio: 1.25, skipFirst: 30, minPoints: 60 };

describe("drift judged per process", () => {
  test("the issue's soak: the stores hold data at a steady cost per message, no service drifted, nothing flagged", () => {
    const verdicts = judgeProcessDrift(processSeries(soak()), steady, opts);
    expect(verdicts.filter((v) => v.flagged).map((v) => v.process)).toEqual([]);
    const mongo = verdicts.find((v) => v.process === "mongo");
    expect(mongo?.role).toBe("store");
    // 344 MB over 90,000 messages ≈ 3.9 MB per 1,000 messages, in both halves.
    expect((mongo?.perThousandMessages?.whole ?? 0) / MB).toBeCloseTo(344 / 90, 1);
    expect((mongo?.perThousandMessages?.secondHalf ?? 0) / MB).toBeCloseTo(344 / 90, 1);
    expect(mongo?.summary).toMatch(
      /^mongo \(data store\): \+3\d\d MB holding 8\d,\d{3} messages = 3\.\d MB per 1,000/,
    );
    expect(mongo?.summary).toContain("data held, not a leak");
    for (const store of ["redis", "kafka"])
      expect(verdicts.find((v) => v.process === store)?.perThousandMessages?.whole).toBeGreaterThan(0);
    const rpcMsg = verdicts.find((v) => v.process === "openim-rpc-msg");
    expect(rpcMsg).toMatchObject({ role: "service", flagged: false });
    expect(rpcMsg?.summary).toMatch(/^openim-rpc-msg \(service\): \+1\d MB RSS/);
  });

  test("a service that doubles is flagged and named, the stores beside it still are not", () => {
    const samples = soak((t) => ({ gateway: 60 * MB + 60 * MB * (t / 1800) }));
    const flagged = judgeProcessDrift(processSeries(samples), steady, opts).filter((v) => v.flagged);
    expect(flagged.map((v) => v.process)).toEqual(["gateway"]);
    expect(flagged[0]?.reason).toMatch(
      /^gateway RSS rose ×1\.9\d \(\+5\d MB\) across the run \(limit ×1\.25\): a leak suspect$/,
    );
  });

  test("a small service growing past the ratio by a few MB is noise, not a leak", () => {
    const samples = soak((t) => ({ "openim-crontask": 8 * MB + 10 * MB * (t / 1800) }));
    const v = judgeProcessDrift(processSeries(samples), steady, opts).find(
      (x) => x.process === "openim-crontask",
    );
    expect(v?.ratio).toBeGreaterThan(1.25);
    expect(v?.flagged).toBe(false);
  });

  test("a store whose growth per message climbs is flagged", () => {
    // Redis: flat for the first half, then 200 MB over the second: it stopped evicting.
    const samples = soak((t) => ({ redis: 20 * MB + (t > 900 ? 200 * MB * ((t - 900) / 900) : 0) }));
    const redis = judgeProcessDrift(processSeries(samples), steady, opts).find((v) => v.process === "redis");
    expect(redis?.flagged).toBe(true);
    expect(redis?.reason).toMatch(
      /^redis grew .* per 1,000 messages in the second half .*: growth per message rising$/,
    );
  });

  test("the generator's RSS and CPU per message are judged the same way", () => {
    const flat = judgeProcessDrift(processSeries(soak()), steady, opts).filter((v) => v.role === "generator");
    expect(flat.map((v) => [v.process, v.measure, v.flagged])).toEqual([
      [GENERATOR_NAME, "rss", false],
      [GENERATOR_NAME, "cpu-per-message", false],
    ]);
    // The generator costing three times as much CPU per message by the end of the run.
    const costly = soak().map((s) => ({
      ...s,
      generator: { cpuPercent: 10 + 20 * (s.t / 1800), rssBytes: 120 * MB + 200 * MB * (s.t / 1800) },
    }));
    const rising = judgeProcessDrift(processSeries(costly), steady, opts).filter((v) => v.flagged);
    expect(rising.map((v) => v.measure)).toEqual(["rss", "cpu-per-message"]);
    expect(rising[1]?.summary).toMatch(
      /ms per 1,000 messages, ×\d\.\d\d across the run \(limit ×1\.5\) — rising$/,
    );
  });

  test("a run too short to have a trend says so for every process rather than judging", () => {
    const short = soak().slice(0, 40);
    const verdicts = judgeProcessDrift(processSeries(short), steady, opts);
    expect(verdicts.every((v) => !v.flagged && v.reason === "too few intervals")).toBe(true);
  });

  test("roles: the stack's data stores, its services, the generator", () => {
    expect(["redis", "kafka", "mongo", "etcd", "postgres", "rabbitmq", "s3"].map(processRole)).toEqual(
      Array(7).fill("store"),
    );
    expect(["openim-api", "gateway", "nginx", "legacy-chat", "epmd"].map(processRole)).toEqual(
      Array(5).fill("service"),
    );
    expect(processRole(GENERATOR_NAME)).toBe("generator");
  });
});
