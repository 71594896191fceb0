import { describe, expect, it } from "vitest";
import { freePort } from "../load/toxiproxy.js";
import type { ShardIdentity } from "./shard-identity.js";
import { openBarrier } from "./start-barrier.js";

const identity: ShardIdentity = { scenario: "direct-chat", model: "100/s for 10s", users: "40" };

async function shards(count: number, o: { timeoutMs?: number; identities?: ShardIdentity[] } = {}) {
  const url = `http://127.0.0.1:${await freePort()}`;
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      openBarrier({
        url,
        shard: { index, count },
        identity: o.identities?.[index] ?? identity,
        timeoutMs: o.timeoutMs ?? 10_000,
        leadMs: 500,
      }),
    ),
  );
}

describe("start barrier", () => {
  it("hands every shard the same start, only once the last one is ready", async () => {
    const [zero, one, two] = await shards(3);
    const early = [zero?.ready(), one?.ready()];
    const settled = await Promise.race([
      Promise.all(early).then(() => "released"),
      new Promise((r) => setTimeout(() => r("held"), 300)),
    ]);
    expect(settled).toBe("held");
    const before = Date.now();
    const starts = await Promise.all([...early, two?.ready()]);
    expect(new Set(starts).size).toBe(1);
    expect(starts[0]).toBeGreaterThan(before);
    await zero?.close();
  });

  it("refuses a shard of a different run, naming the difference, and fails every shard", async () => {
    const [zero, one] = await shards(2, {
      identities: [identity, { ...identity, users: "80" }],
    });
    const results = await Promise.allSettled([zero?.ready(), one?.ready()]);
    for (const r of results) {
      expect(r.status).toBe("rejected");
      expect(String((r as PromiseRejectedResult).reason)).toMatch(/users: 40 vs 80/);
    }
    await zero?.close();
  });

  it("fails every shard at once with the reason when one fails before it is ready", async () => {
    const [zero, one, two] = await shards(3);
    const waiting = Promise.allSettled([zero?.ready(), one?.ready()]);
    await two?.abort("login failed for 12 of 40 users");
    for (const r of await waiting)
      expect(String((r as PromiseRejectedResult).reason)).toMatch(
        /shard 2\/3 failed before the start: login failed for 12 of 40 users/,
      );
    await zero?.close();
  });

  it("an interrupted shard stops waiting at once, even when shard 0 is not there to tell", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const one = await openBarrier({ url, shard: { index: 1, count: 2 }, identity, timeoutMs: 60_000 });
    const waiting = one.ready();
    await new Promise((r) => setTimeout(r, 300));
    // Its own timeout is a minute: the test's 10 s bound fails it if the wait went on.
    await one.abort("interrupted");
    await expect(waiting).rejects.toThrow(/shard 1\/2: interrupted before the start/);
  });

  it("names the shard that never came when the wait times out", async () => {
    const [zero] = await shards(2, { timeoutMs: 1500 });
    await expect(zero?.ready()).rejects.toThrow(
      /not every shard was ready within 2 s: 1 of 2 shards were ready; shard\(s\) 1 never came/,
    );
    await zero?.close();
  });
});
