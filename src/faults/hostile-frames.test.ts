import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ChatDriver, DriverUser } from "../drivers/driver.js";
import { OpenImSession } from "../drivers/openim-session.js";
import { LoadSession } from "../load/engine.js";
import { normalizeModel } from "../load/model.js";
import { phaseFigures } from "../load/results.js";
import type { ResolvedScenario } from "../load/scenario.js";
import { OpenImTransportError } from "../protocol/errors.js";
import { OpenImWsClient } from "../protocol/ws-client.js";
import type { StackEndpoints } from "../stack/endpoints.js";
import { HOSTILE_MAKERS, type HostileCase, HUGE_FRAME_LIMIT, hostileFrameCases } from "./hostile-frames.js";
import { type HostileGateway, startHostileGateway } from "./hostile-gateway.js";

/**
 * A hostile msg gateway against the real protocol client and the real load engine: every bad
 * frame is counted by its kind, and nothing crashes or hangs. Seed fixed for CI; a failure
 * names its case number, reproducible with the same seed.
 */
const SEED = Number(process.env.CUTOVER_FUZZ_SEED ?? 19);
const CASES = 260;
/** A case that takes longer than this has hung the client. */
const CASE_BOUND_MS = 3_000;

let gw: HostileGateway;
beforeAll(async () => {
  gw = await startHostileGateway();
});
afterAll(async () => {
  await gw.close();
});

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung: ${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

/** Plays one case; resolves with the protocol-error kinds the client reported and whether it still works. */
async function play(c: HostileCase): Promise<{ kinds: string[]; stillWorks: boolean }> {
  const userID = `hostile_${SEED}_${c.n}`;
  gw.assign(userID, c);
  const kinds: string[] = [];
  const client = await OpenImWsClient.connect({
    wsUrl: gw.url,
    userID,
    token: "t",
    platformID: 5,
    compression: c.gzip,
    reconnect: false,
    heartbeat: false,
    requestTimeoutMs: 1_000,
    maxFrameBytes: HUGE_FRAME_LIMIT,
  });
  const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
  client.on("error", (err) => {
    if (err instanceof OpenImTransportError && err.protocolError) kinds.push(err.protocolError);
  });
  try {
    if (c.action.on === "request") {
      await client.getNewestSeq().catch((err: unknown) => {
        if (err instanceof OpenImTransportError && err.protocolError) kinds.push(err.protocolError);
      });
    }
    if (c.closes) {
      await closed;
      return { kinds, stillWorks: false };
    }
    // The hostile frame came before this reply on the same stream: once it is answered, the frame was read.
    const after = await client.getNewestSeq().then(
      () => true,
      () => false,
    );
    return { kinds, stillWorks: after };
  } finally {
    await client.close();
  }
}

describe(`hostile frames from the msg gateway (seed ${SEED}, ${CASES} cases)`, () => {
  test("the generator is deterministic and covers every kind of hostility", () => {
    const a = hostileFrameCases(SEED, CASES);
    const b = hostileFrameCases(SEED, CASES);
    expect(a.map((c) => [c.what, c.expect])).toEqual(b.map((c) => [c.what, c.expect]));
    expect(new Set(a.map((c) => c.expect)).size).toBeGreaterThanOrEqual(11);
    expect(CASES).toBeGreaterThanOrEqual(HOSTILE_MAKERS.length * 20);
  });

  test("every case is counted as the protocol error it is, never crashes the client and never hangs it", async () => {
    const failures: string[] = [];
    for (const c of hostileFrameCases(SEED, CASES)) {
      const { kinds, stillWorks } = await within(CASE_BOUND_MS, `case ${c.n} (${c.what})`, play(c));
      if (!kinds.includes(c.expect))
        failures.push(`case ${c.n} ${c.what}: expected ${c.expect}, got [${kinds}]`);
      // A bad frame costs that frame, not the connection, unless the case is one that ends it.
      if (!c.closes && !stillWorks) failures.push(`case ${c.n} ${c.what}: the connection did not survive`);
    }
    expect(failures).toEqual([]);
  }, 60_000);
});

describe("a load run against a hostile msg gateway", () => {
  test("finishes on time and reports each hostile frame by kind in protocolErrors, exactly", async () => {
    // Unsolicited frames (counted exactly) and a close in the middle of a send.
    const onConnect = hostileFrameCases(SEED + 1, 60).filter(
      (c) => c.action.on === "connect" && !c.closes && !c.gzip,
    );
    const midSend = hostileFrameCases(SEED + 2, 24).find((c) => c.expect === "closed-mid-request");
    let next = 0;
    gw.onSend = (_sendID, count) => {
      if (count === 40 && midSend) return midSend;
      return count % 3 === 0 ? onConnect[next++ % onConnect.length] : undefined;
    };
    const driver: ChatDriver = {
      name: "hostile",
      async createUsers(count) {
        return Array.from(
          { length: count },
          (_, i): DriverUser => ({ userID: `lu_${i}`, password: "p", platformID: 5 }),
        );
      },
      async login(user) {
        return new OpenImSession(user.userID, user.platformID, "t", gw.url);
      },
      async createGroup() {
        return "g";
      },
      async close() {},
    };
    const scenario: ResolvedScenario = {
      name: "hostile",
      options: { model: { kind: "constant-arrival-rate", rate: 60, duration: "2s" }, users: 8 },
      fn: async (vu) => {
        await vu.sendText(vu.peer(), vu.payload(50));
      },
    };
    const before = { ...gw.played };
    const started = performance.now();
    const session = await LoadSession.open({
      scenario,
      endpoints: { stack: "local" } as unknown as StackEndpoints,
      driver: { name: "hostile" },
      driverInstance: () => driver,
      users: 8,
      topology: { kind: "pairs" },
      connectAtSetup: true,
      maxInFlightPerUser: 4,
      intervalMs: 500,
    });
    let figures: ReturnType<typeof phaseFigures>;
    try {
      const phase = await session.runPhase({
        model: normalizeModel(scenario.options.model),
        // The last frames are played as the last sends are acked: on a loaded machine the client
        // may read them a second later, and a frame read after the phase is not in its books.
        drainMs: 3_000,
      });
      figures = phaseFigures({ phase, setup: session.setup, thresholds: [] });
    } finally {
      await session.close();
      gw.onSend = undefined;
    }
    expect(performance.now() - started).toBeLessThan(20_000);
    const played = Object.fromEntries(
      Object.entries(gw.played)
        .map(([kind, n]) => [kind, n - (before[kind] ?? 0)] as const)
        .filter(([kind, n]) => n > 0 && kind !== "closed-mid-request"),
    );
    const { "closed-mid-request": midRequest, ...unsolicited } = figures.protocolErrors ?? {};
    // Each unsolicited frame played during the run is counted once, under its own kind.
    expect(Object.keys(played).length).toBeGreaterThanOrEqual(5);
    expect(unsolicited).toEqual(played);
    // Every request in flight on the dropped connection failed as closed-mid-request.
    expect(midRequest).toBeGreaterThanOrEqual(1);
    // The run still measured: sends were acked and delivered around the hostile frames.
    expect(figures.counters?.acked).toBeGreaterThan(50);
    expect(figures.counters?.delivered).toBeGreaterThan(50);
  }, 30_000);
});
