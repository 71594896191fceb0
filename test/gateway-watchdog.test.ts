import { EventEmitter } from "node:events";
import Fastify from "fastify";
import type { Redis } from "ioredis";
import { describe, expect, test } from "vitest";
import { watchdog } from "../reference/gateway/src/watchdog.js";
import { sleep } from "../src/util/time.js";

// The reference gateway's log must say why it stopped answering in time; silence when all is well.
describe("the reference gateway's watchdog", () => {
  test("a slow request, a blocked event loop and a Redis outage each leave a line; a fast request none", async () => {
    const lines: string[] = [];
    const app = Fastify();
    const redis = new EventEmitter() as unknown as Redis;
    const stop = watchdog(app, redis, {
      slowRequestMs: 50,
      blockedLoopMs: 100,
      everyMs: 300,
      write: (l) => lines.push(l),
    });
    app.get("/fast", async () => "ok");
    app.get("/slow/:id", async () => {
      await sleep(80);
      return "ok";
    });
    await app.ready();
    expect((await app.inject({ url: "/fast" })).statusCode).toBe(200);
    expect(lines).toEqual([]);
    await app.inject({ url: "/slow/secret-looking-id?token=abc" });
    expect(lines).toEqual([expect.stringMatching(/^slow request: GET \/slow\/:id → 200 in \d+ ms$/)]);

    const until = Date.now() + 150;
    while (Date.now() < until) {
      // a handler hogging the event loop
    }
    await sleep(400);
    expect(lines.some((l) => /^event loop blocked up to \d+ ms in the last 0\.3 s$/.test(l))).toBe(true);

    for (let i = 0; i < 120; i++) redis.emit("error", new Error("connect ECONNREFUSED 127.0.0.1:6379"));
    expect(lines.filter((l) => l.startsWith("redis error"))).toHaveLength(3);
    stop();
    await app.close();
  });
});
