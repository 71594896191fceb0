import { monitorEventLoopDelay } from "node:perf_hooks";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";

/**
 * What the gateway's log says when it stops answering in time: a blocked event loop, a slow
 * request (OpenIM's before-send hooks give up after their timeout and fail the send), Redis
 * errors. Silent while all is well, so the log stays readable on a long soak. Lines carry no
 * bodies or headers: never a token or a password.
 */
export function watchdog(
  app: FastifyInstance,
  redis: Redis,
  opts: {
    slowRequestMs?: number;
    blockedLoopMs?: number;
    everyMs?: number;
    write?: (line: string) => void;
  } = {},
): () => void {
  const slowMs = opts.slowRequestMs ?? 1000;
  const blockedMs = opts.blockedLoopMs ?? 500;
  const write =
    opts.write ?? ((line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`));

  app.addHook("onResponse", async (req, reply) => {
    const ms = reply.elapsedTime;
    if (ms >= slowMs)
      write(
        `slow request: ${req.method} ${req.routeOptions.url ?? "?"} → ${reply.statusCode} in ${Math.round(ms)} ms`,
      );
  });

  let redisErrors = 0;
  redis.on("error", (err: Error) => {
    // One line per burst: a Redis that is gone would otherwise write one per retry.
    if (redisErrors++ % 50 === 0) write(`redis error (${redisErrors} so far): ${err.message}`);
  });
  redis.on("reconnecting", () => write("redis: reconnecting"));

  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  const timer = setInterval(() => {
    const maxMs = delay.max / 1e6;
    if (maxMs >= blockedMs)
      write(
        `event loop blocked up to ${Math.round(maxMs)} ms in the last ${(opts.everyMs ?? 5000) / 1000} s`,
      );
    delay.reset();
  }, opts.everyMs ?? 5000);
  timer.unref();
  return () => {
    clearInterval(timer);
    delay.disable();
  };
}
