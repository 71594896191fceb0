import { describe, expect, test } from "vitest";
import { summarize } from "../metrics/histogram.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import { LoadSession, type PhaseResult } from "./engine.js";
import { FakeChatStack, type FakeStackOptions } from "./fake-driver.js";
import { type ModelInput, normalizeModel, parseRamp } from "./model.js";
import { loadScenario, type ResolvedScenario, type ScenarioFunction } from "./scenario.js";
import type { TopologyInput } from "./topology.js";

const endpoints = { stack: "local" } as unknown as StackEndpoints;

const chat: ScenarioFunction = async (vu) => {
  await vu.sendText(vu.peer(), vu.payload(100));
};
const fanout: ScenarioFunction = async (vu) => {
  await vu.sendText(vu.group(), vu.payload(100));
};

async function run(
  fake: FakeChatStack,
  o: {
    fn: ScenarioFunction;
    users: number;
    topology: TopologyInput;
    model: ModelInput;
    drainMs?: number;
    during?: () => void;
  },
): Promise<PhaseResult> {
  const scenario: ResolvedScenario = { name: "test", options: { model: o.model, users: o.users }, fn: o.fn };
  const session = await LoadSession.open({
    scenario,
    endpoints,
    driver: { name: "fake" },
    driverInstance: () => fake.driver(),
    users: o.users,
    topology: o.topology,
    connectAtSetup: true,
    maxInFlightPerUser: 64,
    intervalMs: 250,
  });
  try {
    o.during?.();
    return await session.runPhase({ model: normalizeModel(o.model), drainMs: o.drainMs ?? 500 });
  } finally {
    await session.close();
  }
}

describe("the accounting adds up", () => {
  test.each<[string, FakeStackOptions]>([
    ["a clean stack", {}],
    ["a stack that loses every 7th delivery and duplicates every 5th", { loseEvery: 7, duplicateEvery: 5 }],
  ])("pairs on %s: every message is delivered or lost, once, per recipient", async (_name, opts) => {
    const fake = new FakeChatStack({ latencyMs: 2, ...opts });
    const r = await run(fake, {
      fn: chat,
      users: 20,
      topology: { kind: "pairs" },
      model: { kind: "constant-arrival-rate", rate: 200, duration: "1s" },
    });
    const c = r.counters;
    expect(c.sent).toBe(fake.truth.sends);
    expect(c.sent).toBeGreaterThanOrEqual(195);
    expect(c.expectedDeliveries).toBe(c.sent);
    expect(c.delivered + c.lost).toBe(c.expectedDeliveries);
    expect(c.lost).toBe(fake.truth.lost);
    expect(c.duplicated).toBe(fake.truth.duplicated);
    expect(c.unexpected).toBe(0);
    expect(c.acked).toBe(c.sent);
    expect(r.histograms.get("e2e")?.totalCount).toBe(c.delivered);
  });

  test("a group fan-out counts each member, ignores the sender's own echo, and times the last recipient", async () => {
    const fake = new FakeChatStack({ latencyMs: 1, loseEvery: 11, echoToSender: true });
    const r = await run(fake, {
      fn: fanout,
      users: 12,
      topology: { kind: "groups", size: 6 },
      model: { kind: "constant-arrival-rate", rate: 50, duration: "1s" },
    });
    const c = r.counters;
    expect(c.expectedDeliveries).toBe(c.sent * 5);
    expect(c.delivered + c.lost).toBe(c.expectedDeliveries);
    expect(c.lost).toBe(fake.truth.lost);
    expect(c.unexpected).toBe(0);
    // Only messages that reached all five members have a time to the last one.
    expect(r.histograms.get("e2e_last")?.totalCount).toBeLessThan(c.sent);
    expect(r.histograms.get("e2e_last")?.totalCount).toBeGreaterThan(0);
    expect(r.histograms.get("fanout_spread")?.totalCount).toBe(r.histograms.get("e2e_last")?.totalCount);
  });

  test("the server's stamp splits each latency into stages: a slow way in shows in to_server, not after it", async () => {
    // The fake stamps after its latency: all 25 ms are before the server's timestamp.
    const fake = new FakeChatStack({ latencyMs: 25 });
    const r = await run(fake, {
      fn: chat,
      users: 10,
      topology: { kind: "pairs" },
      model: { kind: "constant-arrival-rate", rate: 50, duration: "1s" },
    });
    const h = (name: string) => r.histograms.get(name);
    expect(h("to_server")?.totalCount).toBe(r.counters.acked);
    expect(h("server_to_ack")?.totalCount).toBe(r.counters.acked);
    expect(h("server_to_push")?.totalCount).toBe(r.counters.delivered);
    // ≥ 25 ms less the server stamp's truncation to whole milliseconds and a timer's rounding.
    expect(h("to_server")?.getValueAtPercentile(50)).toBeGreaterThanOrEqual(23_000);
    expect(h("server_to_push")?.getValueAtPercentile(50)).toBeLessThan(
      h("to_server")?.getValueAtPercentile(50) ?? 0,
    );
  });

  test("the soak's mix (every member chats with a partner and writes to the group) balances too", async () => {
    const fake = new FakeChatStack({ latencyMs: 1, echoToSender: true, loseEvery: 13 });
    const soak = await loadScenario("soak");
    const r = await run(fake, {
      fn: soak.fn,
      users: 12,
      topology: { kind: "groups", size: 6, mixed: true },
      model: { kind: "constant-arrival-rate", rate: 100, duration: "1s" },
    });
    const c = r.counters;
    expect(c.sent).toBe(100);
    // Each message is a direct one (1 recipient) or a group one (5): the books cover both.
    expect(c.expectedDeliveries).toBeGreaterThan(c.sent);
    expect(c.delivered + c.lost).toBe(c.expectedDeliveries);
    expect(c.lost).toBe(fake.truth.lost);
    expect(c.unexpected).toBe(0);
  });

  test("a message that arrives after the drain window is lost in that phase's books, then counted late", async () => {
    const fake = new FakeChatStack({ latencyMs: 300 });
    const r = await run(fake, {
      fn: chat,
      users: 2,
      topology: { kind: "pairs" },
      model: { kind: "constant-arrival-rate", rate: 10, duration: "300ms" },
      drainMs: 50,
    });
    expect(r.counters.sent).toBeGreaterThan(0);
    expect(r.counters.lost).toBeGreaterThan(0);
    expect(r.counters.delivered + r.counters.lost).toBe(r.counters.expectedDeliveries);
  });
});

test("connections the server drops during a hold are counted, and leave the connected gauge", async () => {
  const fake = new FakeChatStack();
  const scenario: ResolvedScenario = {
    name: "ramp",
    options: { model: { kind: "constant-arrival-rate", rate: 1, duration: 1 }, users: 10 },
    fn: async (vu) => {
      if (!vu.connected && (await vu.login())) await vu.connect();
    },
  };
  const session = await LoadSession.open({
    scenario,
    endpoints,
    driver: { name: "fake" },
    driverInstance: () => fake.driver(),
    users: 10,
    topology: { kind: "solo" },
    connectAtSetup: false,
    maxInFlightPerUser: 1,
    intervalMs: 200,
  });
  setTimeout(() => fake.dropConnections(3), 1000);
  const r = await session.runPhase({ model: parseRamp("20:0s,20:500ms,0:0s,0:1s", 20), drainMs: 100 });
  await session.close();
  expect(r.counters.connects).toBe(10);
  expect(r.counters.connectionsDropped).toBe(3);
  expect(r.intervals.at(-1)?.connected).toBe(7);
  expect(Object.keys(r.errors).some((k) => k.startsWith("closed by server"))).toBe(true);
});

describe("coordinated omission", () => {
  test("a 1 s stall raises the open model's tail; the closed model hides it", async () => {
    const stallAfter = (fake: FakeChatStack) => () => {
      setTimeout(() => fake.stall(1000), 1200);
    };
    const openFake = new FakeChatStack({ latencyMs: 2 });
    const open = await run(openFake, {
      fn: chat,
      users: 20,
      topology: { kind: "pairs" },
      model: { kind: "constant-arrival-rate", rate: 200, duration: "4s" },
      drainMs: 1500,
      during: stallAfter(openFake),
    });
    const closedFake = new FakeChatStack({ latencyMs: 2 });
    const closed = await run(closedFake, {
      fn: chat,
      users: 4,
      topology: { kind: "pairs" },
      // Same nominal rate: 4 users, each every 20 ms.
      model: { kind: "closed", thinkTime: "18ms", duration: "4s" },
      drainMs: 1500,
      during: stallAfter(closedFake),
    });
    const o = summarize(open.histograms.get("ack")!);
    const c = summarize(closed.histograms.get("ack")!);
    // Open: ~200 sends fell due during the stall and waited 0–1000 ms each: a fifth of all samples.
    expect(o.p90).toBeGreaterThan(150);
    expect(o.p99).toBeGreaterThan(800);
    expect(o.max).toBeGreaterThan(900);
    // Closed: the same stall is 4 slow samples among hundreds; the users simply stopped asking.
    expect(c.max).toBeGreaterThan(900);
    expect(c.p90).toBeLessThan(50);
    expect(c.p99).toBeLessThan(200);
    expect(closed.counters.sent).toBeLessThan(open.counters.sent * 0.85);
  }, 20_000);

  test("the schedule holds its rate and counts dropped operations when every user is busy", async () => {
    const fake = new FakeChatStack({ latencyMs: 200 });
    const scenario: ResolvedScenario = {
      name: "busy",
      options: { model: { kind: "constant-arrival-rate", rate: 100, duration: "1s" }, users: 2 },
      fn: chat,
    };
    const session = await LoadSession.open({
      scenario,
      endpoints,
      driver: { name: "fake" },
      driverInstance: () => fake.driver(),
      users: 2,
      topology: { kind: "pairs" },
      connectAtSetup: true,
      maxInFlightPerUser: 1,
    });
    const r = await session.runPhase({
      model: normalizeModel(scenario.options.model),
      drainMs: 500,
    });
    await session.close();
    expect(r.counters.scheduled).toBe(100);
    expect(r.counters.droppedIterations).toBeGreaterThan(80);
    expect(r.counters.iterations + r.counters.droppedIterations).toBe(100);
  });
});
